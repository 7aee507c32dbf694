"""Other brokers' classifications as annotations: Fink (:mod:`lanner.brokers.fink`) and
ALeRCE (:mod:`lanner.brokers.alerce`) messages and files turned into annotations, one
annotator per source and classifier, written by :mod:`lanner.brokers.write`; Kafka topics
and Fink Data Transfer files read by :mod:`lanner.brokers.consume`. See
``docs/brokers.md``.
"""
