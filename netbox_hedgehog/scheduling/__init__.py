"""
The contract between the web side and the scheduler process (`scheduler_worker`).

Both sides agree here on what they share through the database: the ids of the jobs in the job store
(`job_ids`), the notice table and its NOTIFY channel (`notices`), the advisory lock keys (`locks`), the label of
the scheduler's sessions (`sessions`), and one read-only view of the job store and of who leads (`job_store`,
`state`). Nothing here imports APScheduler or the scheduler: the web process reads the job store with plain SQL
and never unpickles a job. Dependencies run one way: `scheduler_worker` imports this package, never the reverse.
"""
