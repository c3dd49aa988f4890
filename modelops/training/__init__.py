"""Training: data collection, preprocessing, the pipeline, retrain triggers, artifacts."""
