"""The persistent job store: APScheduler's SQLAlchemy store in NetBox's database, table hedgehog_scheduler_jobs."""

import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import and_, func, select

from netbox_hedgehog.scheduling.job_store import JOB_TABLE

__all__ = ('FabricJobStore',)

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

    def count_jobs(self):
        with self.engine.begin() as connection:
            return connection.execute(select(func.count()).select_from(self.jobs_t)).scalar()

    def _get_jobs(self, *conditions):
        selectable = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(self.jobs_t.c.next_run_time)
        if conditions:
            selectable = selectable.where(and_(*conditions))
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
