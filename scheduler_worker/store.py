"""The persistent job store: APScheduler's SQLAlchemy store in NetBox's database, table hedgehog_scheduler_jobs."""

import logging
import pickle

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Float, LargeBinary, Unicode, and_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, insert

from netbox_hedgehog.scheduling.job_store import JOB_TABLE

__all__ = ('JOB_STORE', 'FabricJobStore', 'shut_down')

# The alias of the one job store in a scheduler.
JOB_STORE = 'default'

logger = logging.getLogger('scheduler_worker.store')


class FabricJobStore(SQLAlchemyJobStore):
    """
    SQLAlchemyJobStore that never lets a job vanish quietly.

    APScheduler 3 deletes a row it cannot unpickle and logs a single line, after which the fabric would never
    sync again. This store logs such a row as an error, removes it so that the scheduler loop does not trip
    over it forever, and reports its id to `on_unrestorable` so that the service recreates the job from the
    fabric at once.
    """

    def __init__(self, engine, on_unrestorable):
        super().__init__(engine=engine, tablename=JOB_TABLE)
        self.on_unrestorable = on_unrestorable

    def lookup_job(self, job_id):
        selectable = select(self.jobs_t.c.job_state).where(self.jobs_t.c.id == job_id)
        with self.engine.begin() as connection:
            job_state = connection.execute(selectable).scalar()
        if job_state is None:
            return None
        try:
            return self._reconstitute_job(job_state)
        except Exception:
            logger.exception('Job %s in table %s cannot be restored', job_id, JOB_TABLE)
            self._discard({job_id})
            return None

    def add_jobs(self, jobs):
        """
        Store many new jobs in one statement and one commit; return the ids of those already stored (left as they are).

        Adding 10,000 jobs one by one through the scheduler costs 10,000 commits, minutes at a cold start. Each row
        here is exactly what SQLAlchemyJobStore.add_job() would write for the job.
        """
        if not jobs:
            return set()
        rows = [
            {
                'id': job.id,
                'next_run_time': datetime_to_utc_timestamp(job.next_run_time),
                'job_state': pickle.dumps(job.__getstate__(), self.pickle_protocol),
            }
            for job in jobs
        ]
        statement = insert(self.jobs_t).on_conflict_do_nothing(index_elements=[self.jobs_t.c.id])
        with self.engine.begin() as connection:
            added = set(connection.execute(statement.returning(self.jobs_t.c.id), rows).scalars())
        return {job.id for job in jobs} - added

    def due_jobs(self, now, limit):
        """The jobs due at `now`, most overdue first, at most `limit` of them: what get_due_jobs() reads, bounded."""
        return self._get_jobs(self.jobs_t.c.next_run_time <= datetime_to_utc_timestamp(now), limit=limit)

    def update_jobs(self, jobs):
        """
        Store the state of many jobs in one statement, each row as SQLAlchemyJobStore.update_job() would write it.

        A leader handing over 167 due runs a second would otherwise spend one UPDATE round trip on each.
        """
        if not jobs:
            return
        statement = text(
            f'UPDATE {self.jobs_t.name} AS job SET next_run_time = fresh.next_run_time, job_state = fresh.job_state '
            'FROM unnest(:ids, :next_run_times, :job_states) AS fresh(id, next_run_time, job_state) '
            'WHERE job.id = fresh.id'
        ).bindparams(
            bindparam('ids', type_=ARRAY(Unicode)),
            bindparam('next_run_times', type_=ARRAY(Float)),
            bindparam('job_states', type_=ARRAY(LargeBinary)),
        )
        with self.engine.begin() as connection:
            connection.execute(statement, {
                'ids': [job.id for job in jobs],
                'next_run_times': [datetime_to_utc_timestamp(job.next_run_time) for job in jobs],
                'job_states': [pickle.dumps(job.__getstate__(), self.pickle_protocol) for job in jobs],
            })

    def remove_jobs(self, job_ids):
        """Remove many jobs in one statement; ids no longer stored are skipped."""
        if not job_ids:
            return
        with self.engine.begin() as connection:
            connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(job_ids)))

    def count_jobs(self):
        with self.engine.begin() as connection:
            return connection.execute(select(func.count()).select_from(self.jobs_t)).scalar()

    def _get_jobs(self, *conditions, limit=None):
        selectable = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(self.jobs_t.c.next_run_time)
        if conditions:
            selectable = selectable.where(and_(*conditions))
        if limit is not None:
            selectable = selectable.limit(limit)
        jobs = []
        broken = set()
        with self.engine.begin() as connection:
            rows = connection.execute(selectable).all()
        for row in rows:
            try:
                jobs.append(self._reconstitute_job(row.job_state))
            except Exception:
                logger.exception('Job %s in table %s cannot be restored', row.id, JOB_TABLE)
                broken.add(row.id)
        if broken:
            self._discard(broken)
        return jobs

    def _discard(self, job_ids):
        with self.engine.begin() as connection:
            connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(job_ids)))
        logger.error(
            'Removed %d unrestorable job(s) from %s: %s; recreating them from their fabrics',
            len(job_ids), JOB_TABLE, ', '.join(sorted(job_ids)),
        )
        self.on_unrestorable(job_ids)


def shut_down(scheduler):
    """
    Shut a scheduler down without it taking one more slot.

    APScheduler 3's background thread, woken by shutdown(), makes one last pass over the due jobs before it sees
    that the scheduler stopped: it hands them to executors that were just shut down ("cannot schedule new futures
    after shutdown" for each) and advances them in the store, so their slots are taken but never run. Detaching the
    job store first (which waits for a pass in progress) leaves that last pass nothing to take.
    """
    scheduler.remove_jobstore(JOB_STORE)
    scheduler.shutdown(wait=False)
