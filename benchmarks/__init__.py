"""Benchmarks and documentation screenshots, run as modules from the project folder:

    .venv/bin/python -m benchmarks.bench_etl --help

- bench_etl, bench_ingestion: etl_job / ingestion_job at several totesys scales (scale_world.py
  builds each scale, job_runs.py times one run, timed_job.py is the process a run executes in,
  step_times.py reads a run's profile from its event log, process_tree.py samples the peak RSS of
  the run's process tree); bench_etl also times floor.py, the same data moved with nothing else;
- fixed_cost: where an idle etl_job run's seconds go, for `reveries run` and `dagster job execute`;
- bench_seed, bench_dashboard, bench_latency: seeding, the dashboard's queries, change -> warehouse
  latency under `reveries dev`;
- screenshot_*: the images in docs/img/;
- report.py: the markdown report they print and save. Results are kept in benchmarks/results/.
"""
