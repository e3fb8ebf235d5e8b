"""How the scheduler's database sessions are labelled, so operators and health checks can tell them apart."""

__all__ = ('APPLICATION_NAME',)

# The application_name prefix of every scheduler session in pg_stat_activity ("hedgehog_scheduler job store", ...).
APPLICATION_NAME = 'hedgehog_scheduler'
