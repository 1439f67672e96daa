"""Exercise the server the way grpcurl does: discover everything through reflection (no proto
files), then call methods with JSON-shaped messages. Used by .ci/run against a running server.

usage: grpcurl_like.py HOST:PORT [v1|v1alpha]
"""
import json
import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

EXPECTED = {
    "iam.loginprofile.v1.LoginProfileService",
    "iam.loginprofile.v1.UserService",
    "iam.loginprofile.v1.AccountPasswordPolicyService",
    "grpc.health.v1.Health",
}


def call(channel, pool, method_path, body):
    service_name, method_name = method_path.rsplit("/", 1)
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_cls.FromString,
    )
    reply = stub(json_format.ParseDict(body, request_cls()))
    return json_format.MessageToDict(reply)


def services_via_v1(channel):
    """grpcurl asks reflection v1 first; its messages are wire-identical to v1alpha's."""
    from grpc_reflection.v1alpha import reflection_pb2

    stream = channel.stream_stream(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    replies = stream(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    return {s.name for s in next(replies).list_services_response.service}


def main():
    target = sys.argv[1]
    channel = grpc.insecure_channel(target)
    db = ProtoReflectionDescriptorDatabase(channel)
    services = set(db.get_services())
    missing = EXPECTED - services
    assert not missing, f"reflection does not list {missing}; it lists {services}"
    print("list (v1alpha):", "\n  ".join(sorted(services)))
    v1 = services_via_v1(channel)
    assert EXPECTED <= v1, f"reflection v1 lists {v1}"
    print("list (v1): ok")

    pool = descriptor_pool.DescriptorPool(db)
    svc = pool.FindServiceByName("iam.loginprofile.v1.LoginProfileService")
    methods = sorted(m.name for m in svc.methods)
    assert methods == sorted([
        "ChangePassword", "CreateLoginProfile", "DeleteLoginProfile",
        "GetLoginProfile", "UpdateLoginProfile", "VerifyPassword"]), methods
    print("describe LoginProfileService:", methods)

    user = call(channel, pool, "iam.loginprofile.v1.UserService/CreateUser",
                {"userName": "Reflected", "path": "/ops/"})
    assert user["user"]["arn"] == "arn:aws:iam::123456789012:user/ops/Reflected", user
    made = call(channel, pool, "iam.loginprofile.v1.LoginProfileService/CreateLoginProfile",
                {"userName": "reflected", "password": "Str0ng!Passw0rd", "passwordResetRequired": True})
    assert made["loginProfile"]["userName"] == "Reflected", made
    verdict = call(channel, pool, "iam.loginprofile.v1.LoginProfileService/VerifyPassword",
                   {"userName": "reflected", "password": "Str0ng!Passw0rd"})
    assert verdict["result"] == "VERIFY_RESULT_OK" and verdict["passwordResetRequired"], verdict
    try:
        call(channel, pool, "iam.loginprofile.v1.LoginProfileService/GetLoginProfile", {"userName": "nobody"})
        raise AssertionError("expected NOT_FOUND")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e
        assert e.details() == "The user with name nobody cannot be found.", e.details()
    call(channel, pool, "iam.loginprofile.v1.LoginProfileService/DeleteLoginProfile", {"userName": "reflected"})
    call(channel, pool, "iam.loginprofile.v1.UserService/DeleteUser", {"userName": "reflected"})
    print("calls through reflection: ok")


if __name__ == "__main__":
    main()
