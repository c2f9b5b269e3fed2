"""TaskFlow decorators: ``@task.moka_pyspark`` (:mod:`.moka_pyspark`)."""
