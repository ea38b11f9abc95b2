"""Stream transports for triggers and queue steps (Kafka through kafka-python, imported lazily).

May import: graph and the layers below.
"""
