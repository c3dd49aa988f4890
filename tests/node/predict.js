// A Node.js service asking modelops for a prediction with celery-node, by task name, in a signed
// envelope made here with nothing but Node's own crypto (docs/contracts.md). Prints the answer as JSON.
//   BROKER_URL, SERVICE, CREDENTIAL (hex), TENANT_ID; input data as JSON in INPUT_DATA
const crypto = require("crypto");
const celery = require("celery-node");

const TASK = "modelops.serving.predict";
const { BROKER_URL, SERVICE, CREDENTIAL, TENANT_ID, INPUT_DATA } = process.env;

function envelope(task, service, credential, call) {
  const issuedAt = Math.floor(Date.now() / 1000);
  const nonce = crypto.randomBytes(16).toString("hex");
  const body = JSON.stringify(call);
  const signature = crypto.createHmac("sha256", Buffer.from(credential, "hex"))
    .update(["modelops-call-v1", task, service, String(issuedAt), nonce, body].join("\n"), "utf8")
    .digest("hex");
  return { service, issued_at: issuedAt, nonce, body, signature };
}

const client = celery.createClient(BROKER_URL, BROKER_URL);
client.conf.CELERY_QUEUE = "predict";
const call = { tenant_id: TENANT_ID, agent_type: "classification", input_data: JSON.parse(INPUT_DATA) };
const taskId = `${SERVICE}-${crypto.randomUUID()}`; // a service's task ids begin with its name (Redis ACLs)
const result = client.sendTask(TASK, [], { envelope: envelope(TASK, SERVICE, CREDENTIAL, call) }, taskId);
result.get(60000)
  .then((answer) => { console.log(JSON.stringify(answer)); client.disconnect(); })
  .catch((error) => { console.error(String(error)); client.disconnect(); process.exit(1); });
