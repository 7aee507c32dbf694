"""Light-curve features of each alert's object, computed from the packet's own history.

Each module holds one enricher (or a helper they share) that reads the batch's light-curve
tables (``detections``, ``upper_limits``, ``forced``) and returns columns of the ``objects``
table, one row per alert. Nothing here reads a database or writes anywhere.
"""
