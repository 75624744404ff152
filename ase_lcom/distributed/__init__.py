"""Batch jobs over many inputs on any executor (local processes or a Dask cluster): ``predict-many``."""
