"""The benchmark protocol's consumers, on Channels' AsyncJsonWebsocketConsumer."""

from channels.generic.websocket import AsyncJsonWebsocketConsumer


def valid(content, kind):
    """Whether `content` is `{"type": kind, "seq": int, "body": str}`."""
    return (
        isinstance(content, dict)
        and content.get("type") == kind
        and isinstance(content.get("seq"), int)
        and isinstance(content.get("body"), str)
    )


class ProtocolConsumer(AsyncJsonWebsocketConsumer):
    """Refuses anonymous users; answers malformed frames with an error frame."""

    async def connect(self):
        user = self.scope["user"]
        if not user.is_authenticated:
            # Closing before accept() answers the handshake with HTTP 403.
            await self.close()
            return
        self.username = user.username
        await self.joined()
        await self.accept()

    async def joined(self):
        pass

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        # AsyncJsonWebsocketConsumer lets a JSON error escape, which closes
        # the socket with 1011; the protocol wants an error frame instead.
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError as error:
            await self.send_json({"type": "error", "error": f"invalid message: {error}"})


class EchoConsumer(ProtocolConsumer):
    async def receive_json(self, content, **kwargs):
        if not valid(content, "echo"):
            await self.send_json({"type": "error", "error": "expected an echo message"})
            return
        await self.send_json(
            {
                "type": "echo",
                "seq": content["seq"],
                "body": content["body"],
                "user": self.username,
            }
        )


class RoomConsumer(ProtocolConsumer):
    async def joined(self):
        self.group = "room." + self.scope["url_route"]["kwargs"]["name"]
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not valid(content, "say"):
            await self.send_json({"type": "error", "error": "expected a say message"})
            return
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "room.said",
                "from": self.username,
                "seq": content["seq"],
                "body": content["body"],
            },
        )

    async def room_said(self, event):
        await self.send_json(
            {
                "type": "said",
                "from": event["from"],
                "seq": event["seq"],
                "body": event["body"],
            }
        )
