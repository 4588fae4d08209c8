from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/echo", consumers.EchoConsumer.as_asgi()),
    path("ws/room/<str:name>", consumers.RoomConsumer.as_asgi()),
]
