"""Never run: the conformance traces' jobs are played, not executed (see README.md)."""
