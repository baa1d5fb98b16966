"""Alert texts, as (subject, body): a failed run, a failed ERROR asset check, an asset turning stale."""

from __future__ import annotations

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    DagsterEventType,
    EventLogRecord,
    RunFailureSensorContext,
)

from reveries_pipeline.operations.alerts.config import AlertConfig
from reveries_pipeline.resources.untrusted import bounded, bounded_lines

Alert = tuple[str, str]  # (subject, body)

# FreshnessState is not public Dagster API: the freshness event's states are compared by their value.
FRESHNESS_FAIL = "FAIL"
MAX_DESCRIPTION_CHARS = 1000  # a check's description may quote source values
MAX_ERROR_CHARS = 20_000  # one error with its traceback: an error may quote a source value too


def _first_line(text: str | None, limit: int = 200) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return bounded(line, limit)


def _capped(text: str) -> str:
    """A multi-line error kept readable (not escaped), only cut when it is longer than MAX_ERROR_CHARS."""
    return text if len(text) <= MAX_ERROR_CHARS else f"{text[:MAX_ERROR_CHARS]}… [{len(text)} chars]"


# ------------------------------------------------------------------------------------------- runs


def _root_cause(error) -> str:
    """The innermost exception of a SerializableErrorInfo chain, e.g. 'ValueError: boom'."""
    while getattr(error, "cause", None) is not None:
        error = error.cause
    return _first_line(error.message)


def _failed_steps(context: RunFailureSensorContext) -> tuple[list[tuple[str, str]], list[str]]:
    """(step key, full error) of each failed step of the run, and a one-line summary of each error."""
    steps: list[tuple[str, str]] = []
    summaries: list[str] = []
    for entry in context.instance.all_logs(context.dagster_run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        event = entry.dagster_event
        if event is None:
            continue
        error = event.step_failure_data.error if event.step_failure_data else None
        message = error.to_string().strip() if error else (event.message or entry.user_message or "")
        steps.append((event.step_key or "?", _capped(message)))
        summaries.append(_root_cause(error) if error else _first_line(message))
    return steps, summaries


def _run_error(context: RunFailureSensorContext) -> str:
    """The run-level error: the job failure's error when it has one, else the failure event's message."""
    job_failure = context.failure_event.job_failure_data
    if job_failure is not None and job_failure.error is not None:
        return _capped(job_failure.error.to_string().strip())
    return _capped(context.failure_event.message or "")


def build_failure_message(context: RunFailureSensorContext, config: AlertConfig) -> Alert:
    run_id, job = context.dagster_run.run_id, context.dagster_run.job_name
    steps, summaries = _failed_steps(context)
    run_error = _run_error(context)

    summary = _first_line(summaries[0] if summaries else run_error) or "run failed"
    step_keys = ", ".join(key for key, _ in steps) or "(no step failed; run-level failure)"
    subject = f"[reveries] job {job} failed: {step_keys} - {summary}"
    lines = [
        f"Job:     {job}",
        f"Run id:  {run_id}",
        f"Run:     {config.run_url(run_id)}",
        f"Failed step(s): {step_keys}",
        "",
        f"Run failure: {run_error or summary}",
    ]
    for key, message in steps:
        lines += ["", f"--- step {key} ---", message]
    return config.redact(subject), config.redact("\n".join(lines))


# ------------------------------------------------------------------------- checks and freshness


def _format_metadata(metadata) -> list[str]:
    """The entries, indented. Values may quote source rows: every line of one is bounded and escaped,
    and a multi-line value (a text list of samples) shows its first lines only."""
    lines = []
    for key, value in (metadata or {}).items():
        shown = str(getattr(value, "value", value)).splitlines() or [""]
        if len(shown) == 1:
            lines.append(f"  {bounded(key, 80)}: {bounded(shown[0])}")
        else:
            lines.append(f"  {bounded(key, 80)}:")
            lines += [f"    {line}" for line in bounded_lines(shown, len(shown)).splitlines()]
    return lines


def asset_check_message(record: EventLogRecord, config: AlertConfig) -> Alert | None:
    """The alert for a failed asset check of severity ERROR; None for any other evaluation."""
    evaluation = record.event_log_entry.dagster_event.event_specific_data
    if not isinstance(evaluation, AssetCheckEvaluation):
        return None
    if evaluation.passed or evaluation.severity != AssetCheckSeverity.ERROR:
        return None
    asset = evaluation.asset_key.to_user_string()
    subject = f"[reveries] asset check {asset}:{evaluation.check_name} failed (ERROR)"
    lines = [
        f"Asset:   {asset}",
        f"Check:   {evaluation.check_name}",
        "Severity: ERROR",
        f"Run id:  {record.run_id}",
        f"Run:     {config.run_url(record.run_id)}",
    ]
    if evaluation.partition:
        lines.append(f"Partition: {evaluation.partition}")
    if evaluation.description:
        lines += ["", f"Description: {bounded(evaluation.description, MAX_DESCRIPTION_CHARS)}"]
    meta = _format_metadata(evaluation.metadata)
    if meta:
        lines += ["", "Metadata:", *meta]
    return config.redact(subject), config.redact("\n".join(lines))


def freshness_message(record: EventLogRecord, config: AlertConfig) -> Alert | None:
    """The alert for an asset whose freshness turns FAIL; None for any other freshness change.

    The event's data (a FreshnessStateChange: key, previous_state, new_state) is read by attribute."""
    change = record.event_log_entry.dagster_event.event_specific_data
    if getattr(getattr(change, "new_state", None), "value", None) != FRESHNESS_FAIL:
        return None
    asset = change.key.to_user_string()
    subject = f"[reveries] asset {asset} is stale (freshness FAIL)"
    body = "\n".join(
        [
            f"Asset:    {asset}",
            f"Freshness: {change.previous_state.value} -> {change.new_state.value}",
            f"Asset page: {config.webserver_url}/assets/{'/'.join(change.key.path)}",
        ]
    )
    return subject, body
