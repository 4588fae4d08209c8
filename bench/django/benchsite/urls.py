"""No HTTP views: the benchmark speaks WebSocket only."""

urlpatterns = []
