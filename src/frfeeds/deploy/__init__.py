"""Putting a built tree where it scales: the header policy every host must follow
(``headers``), and ``frfeeds deploy`` to an S3-compatible bucket: the target (``target``),
the local files (``local``), the pure plan (``plan``), the bucket's I/O (``s3``, the only
module that imports boto3) and the run that ties them (``run``).

Nothing here is imported by a build or the app; boto3 is an optional extra
(``frfeeds[deploy]``), imported only when a deploy runs.
"""
