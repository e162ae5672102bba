"""grpc.health.v1 Check without the grpcio-health-checking package: the two tiny
messages are built by hand (field 1 = service name / serving status)."""


def check_health(channel, service=''):
    encoded = service.encode()
    request = (b'\x0a' + bytes([len(encoded)]) + encoded) if encoded else b''
    call = channel.unary_unary('/grpc.health.v1.Health/Check',
                               request_serializer=lambda b: b, response_deserializer=lambda b: b)
    reply = call(request, timeout=10)
    # HealthCheckResponse { ServingStatus status = 1; } -> b'\x08' + varint
    return {1: 'SERVING', 2: 'NOT_SERVING'}.get(reply[1] if len(reply) > 1 else 0, 'UNKNOWN')
