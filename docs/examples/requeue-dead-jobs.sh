# Once the cause is fixed: give dead jobs a fresh set of attempts.
python -m core.jobs requeue                  # every dead job
python -m core.jobs requeue mail             # dead jobs of one kind
python -m core.jobs requeue --id "$JOB_ID"   # one dead job (its id: the `job_id` of its log lines)
