"""The spec's DASHBOARD_WIDGETS and the six panels of its layout.

The four widgets are the spec's own (component, refresh interval, data source, filters, fields).
The layout has six panels; the two the widgets do not name get the interval of the nearest one:
Performance Trends is model health over time (30 s), Resource Usage the "critical metrics" of the
spec's performance requirements (every 30 s).
"""
from __future__ import annotations

from dataclasses import dataclass

DASHBOARD_WIDGETS = {
    "model_health": {
        "component": "HealthMetrics",
        "refresh_interval": 30,
        "data_source": "ai.model_metrics",
        "filters": {"metric_date": "today"},
        "display_fields": ["accuracy", "precision", "recall", "f1_score"],
    },
    "training_data": {
        "component": "TrainingDataMetrics",
        "refresh_interval": 60,
        "data_source": "ai.training_data",
        "filters": {"created_at": "today"},
        "display_fields": ["total_samples", "privacy_compliance", "data_quality"],
    },
    "version_management": {
        "component": "VersionControl",
        "refresh_interval": 120,
        "data_source": "ai.model_versions",
        "filters": {"is_active": True},
        "display_fields": ["version", "accuracy_score", "is_production", "trained_on"],
    },
    "alerts": {
        "component": "AlertPanel",
        "refresh_interval": 15,
        "data_source": "ai.alerts",
        "filters": {"status": "active"},
        "display_fields": ["alert_type", "severity", "timestamp", "resolved_by"],
    },
}


@dataclass(frozen=True)
class Panel:
    name: str  # the JSON endpoint's name: /api/panels/<name>
    title: str
    widget: str  # the spec's widget whose refresh interval it keeps
    operators_only: bool = False

    @property
    def refresh_interval(self) -> int:
        return DASHBOARD_WIDGETS[self.widget]["refresh_interval"]


# In the spec's layout order: three on the top row, three on the bottom.
PANELS = (
    Panel("models", "Current Models", "model_health"),
    Panel("trends", "Performance Trends", "model_health"),
    Panel("alerts", "Alerts & Events", "alerts"),
    Panel("training", "Training Data", "training_data"),
    Panel("versions", "Model Versions", "version_management"),
    # the hosts' load is the deployment's, not a tenant's business
    Panel("resources", "Resource Usage", "model_health", operators_only=True),
)
PANELS_BY_NAME = {panel.name: panel for panel in PANELS}
