"""grpcio (Python), the way a Python service calls loginprofiled: stubs generated from the proto
file, over a Unix socket with each `:authority` a client may send there, and through reflection
alone (no proto files), as grpcurl does, over both transports."""

import urllib.parse

import grpc
import pytest
from google.protobuf import descriptor_pool, json_format, message_factory
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status


def authorities(socket):
    """What `grpc.default_authority` is set to; None keeps grpcio's own default (the path,
    percent-encoded, without its leading slash)."""
    return {
        "default": None,
        "localhost": "localhost",
        "socket-path": socket,
        "percent-encoded-path": urllib.parse.quote(socket, safe=""),
        "empty": "",
    }


@pytest.mark.parametrize("authority", list(authorities("/s")))
def test_grpcio_calls_over_a_unix_socket_whatever_the_authority(unix_server, pb, name, authority):
    messages, stubs = pb
    value = authorities(unix_server.socket)[authority]
    options = [] if value is None else [("grpc.default_authority", value)]
    with grpc.insecure_channel(unix_server.target, options=options) as channel:
        users = stubs.UserServiceStub(channel)
        created = users.CreateUser(messages.CreateUserRequest(user_name=name), timeout=10).user
        got = users.GetUser(messages.GetUserRequest(user_name=name.upper()), timeout=10).user
        assert (got.user_name, got.user_id) == (name, created.user_id)
        profiles = stubs.LoginProfileServiceStub(channel)
        with pytest.raises(grpc.RpcError) as failed:
            profiles.GetLoginProfile(messages.GetLoginProfileRequest(user_name="nobody"), timeout=10)
    error = failed.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "The user with name nobody cannot be found."
    # The rich status, as grpcio-status decodes it.
    status = rpc_status.from_call(error)
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("NoSuchEntity", "iam.loginprofile.v1")


def reflected_call(channel, pool, method_path, body):
    service_name, method_name = method_path.rsplit("/", 1)
    method = pool.FindServiceByName(service_name).FindMethodByName(method_name)
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    stub = channel.unary_unary(
        f"/{service_name}/{method_name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=response_cls.FromString,
    )
    return json_format.MessageToDict(stub(json_format.ParseDict(body, request_cls()), timeout=10))


def test_reflection_alone_is_enough_to_call_and_to_read_errors(server, name):
    with grpc.insecure_channel(server.target) as channel:
        db = ProtoReflectionDescriptorDatabase(channel)
        assert "iam.loginprofile.v1.LoginProfileService" in db.get_services()
        pool = descriptor_pool.DescriptorPool(db)
        methods = {m.name for m in pool.FindServiceByName(
            "iam.loginprofile.v1.LoginProfileService").methods}
        assert methods == {"ChangePassword", "CreateLoginProfile", "DeleteLoginProfile",
                           "GetLoginProfile", "ImportLoginProfile", "UpdateLoginProfile",
                           "VerifyPassword"}
        user = reflected_call(channel, pool, "iam.loginprofile.v1.UserService/CreateUser",
                              {"userName": name, "path": "/ops/"})
        assert user["user"]["arn"] == f"arn:aws:iam::123456789012:user/ops/{name}"
        reflected_call(channel, pool, "iam.loginprofile.v1.LoginProfileService/CreateLoginProfile",
                       {"userName": name, "password": "Str0ng!Passw0rd"})
        verdict = reflected_call(channel, pool,
                                 "iam.loginprofile.v1.LoginProfileService/VerifyPassword",
                                 {"userName": name, "password": "Str0ng!Passw0rd"})
        assert verdict["result"] == "VERIFY_RESULT_OK", verdict
        # Error details resolve through reflection too, as grpcurl resolves them.
        for detail in ("ErrorInfo", "BadRequest", "RetryInfo"):
            assert pool.FindMessageTypeByName(f"google.rpc.{detail}").name == detail
    logs = server.logs()
    assert "Str0ng!Passw0rd" not in logs and "$argon2" not in logs, "a password or hash was logged"
