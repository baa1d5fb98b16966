"""The errors a lake object can raise, each naming the bucket and key and what to do about it."""

from __future__ import annotations

import shlex


class ObjectExistsError(FileExistsError):
    """Raised when a write would replace an immutable object."""


class ObjectTooLargeError(ValueError):
    """An immutable object too large to write conditionally (S3: one PUT holds at most 5 GiB)."""


class UnreadableObjectError(RuntimeError):
    """A lake object that exists but cannot be read (truncated, corrupt). Names the bucket and key,
    and how to set it aside: `reveries quarantine` moves it under `_quarantine/` and has the stage
    that wrote it recapture what it held."""

    def __init__(self, bucket_url: str, key: str, reason: str):
        self.bucket_url, self.key, self.reason = bucket_url, key, reason
        super().__init__(
            f"cannot read object {key!r} in bucket {bucket_url}: {reason}. If the object is corrupt, set it "
            f"aside and recapture what it held (docs/runbook.md, 'A corrupt object'); run: "
            f"{quarantine_command(bucket_url, key)}"
        )


def quarantine_command(bucket_url: str, key: str) -> str:
    """The shell command that quarantines `key`, quoted so it works when pasted; last on its line so
    the operator can copy up to the end of it."""
    argv = ["reveries", "quarantine", "--bucket", bucket_url]
    if key.startswith("-"):
        argv.append("--")  # a key is never an option
    return shlex.join([*argv, key])


# Read limits. Every read of a lake object is checked against them before its data is read: a
# batch's stored size (from the listing or the GET's headers) and, from its parquet footer, its row
