// A Node.js caller using @grpc/grpc-js and @grpc/proto-loader, as a Node service would.
// usage: node grpc_js_client.js TARGET PROTO_ROOT USER_NAME [AUTHORITY]
// Creates USER_NAME, reads it back, asks for a login profile nobody has, and prints one JSON
// object with what came back. AUTHORITY, when given, is set with grpc.default_authority.
"use strict";

const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const [target, protoRoot, userName, authority] = process.argv.slice(2);
const definition = protoLoader.loadSync("iam/loginprofile/v1/loginprofile.proto", {
  includeDirs: [protoRoot],
  keepCase: true,
  longs: String,
  defaults: false,
});
const v1 = grpc.loadPackageDefinition(definition).iam.loginprofile.v1;
const options = authority === undefined ? {} : { "grpc.default_authority": authority };
const credentials = grpc.credentials.createInsecure();
const users = new v1.UserService(target, credentials, options);
const profiles = new v1.LoginProfileService(target, credentials, options);

function call(client, method, request) {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + 10000);
    client[method](request, { deadline }, (error, reply) =>
      resolve(error ? { error: { code: error.code, details: error.details } } : { reply }),
    );
  });
}

(async () => {
  const created = await call(users, "CreateUser", { user_name: userName, path: "/js/" });
  const got = await call(users, "GetUser", { user_name: userName });
  const missing = await call(profiles, "GetLoginProfile", { user_name: "nobody" });
  console.log(JSON.stringify({ created, got, missing }));
  users.close();
  profiles.close();
})();
