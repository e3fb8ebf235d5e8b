"""The Hedgehog scheduler service: APScheduler hosting one sync job per fabric (see README)."""
