"""airshift: move Apache Airflow estates forward with proof."""

__version__ = "0.1.0"
