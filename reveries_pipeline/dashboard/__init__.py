"""The Reveries dashboard: a Streamlit page answering business questions from the star-schema warehouse.

The questions live as standalone SQL files in `sql/` (see `queries.py`); `server.py` runs the page.
"""
