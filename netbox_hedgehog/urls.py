from django.urls import include, path
from utilities.urls import get_model_urls

from . import views
from .kinds import KINDS

urlpatterns = (
    path('fabrics/', include(get_model_urls('netbox_hedgehog', 'hedgehogfabric', detail=False))),
    path('fabrics/<int:pk>/', include(get_model_urls('netbox_hedgehog', 'hedgehogfabric'))),
    path('sync-runs/', include(get_model_urls('netbox_hedgehog', 'syncrun', detail=False))),
    path('sync-runs/<int:pk>/', include(get_model_urls('netbox_hedgehog', 'syncrun'))),
    path('scheduler/', views.SchedulerView.as_view(), name='scheduler'),
    *(
        route
        for kind in KINDS
        for route in (
            path(f'{kind.slug}/', include(get_model_urls('netbox_hedgehog', kind.url_name, detail=False))),
            path(f'{kind.slug}/<int:pk>/', include(get_model_urls('netbox_hedgehog', kind.url_name))),
        )
    ),
)
