// A frontend's calls, typed by openapi-typescript from each service's own document and sent
// with openapi-fetch against the live services (tests/contract/ts-client/run.sh). It type-checks
// under `tsc --strict` with no `any`, and exits non-zero on the first answer that is not what
// the contract promises. Data from seed 001 («Новые Созидатели»); the people are invented.
import createClient from "openapi-fetch";
import type { components as Ballot, paths as BallotPaths } from "./generated/ballot.js";
import type { components as Events, paths as EventsPaths } from "./generated/events-api.js";

type Problem = Events["schemas"]["Problem"];
type ProblemCode = Events["schemas"]["ProblemCode"];

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function check(condition: boolean, what: string): asserts condition {
  if (!condition) {
    throw new Error(`contract client: ${what}`);
  }
}

// What a frontend does with a problem: branch on its stable code, never on English text.
function advice(problem: Problem): string {
  switch (problem.code) {
    case "already-registered":
      return "show the existing registration";
    case "registration-closed":
      return "say registration is closed";
    case "already-voted":
    case "choice-limit-reached":
      return "show the voter's earlier choice";
    case "voting-closed":
      return "show the results instead";
    case "validation-failed":
      return `highlight ${(problem.errors ?? []).map((e) => e.field).join(", ")}`;
    default:
      return `show "${problem.title}"`;
  }
}

function expectCode(problem: Problem | undefined, code: ProblemCode, what: string): Problem {
  check(problem !== undefined, `${what}: expected a problem`);
  check(problem.code === code, `${what}: expected ${code}, got ${problem.code}`);
  check(problem.type === `/problems/${code}`, `${what}: type ${problem.type}`);
  return problem;
}

const admin = { Authorization: `Bearer ${env("CIVIC_EVENTS_ADMIN_KEY")}` };
const events = createClient<EventsPaths>({ baseUrl: env("CIVIC_EVENTS_URL"), headers: admin });
const ballot = createClient<BallotPaths>({ baseUrl: env("CIVIC_BALLOT_URL") });
const client = { Authorization: `Bearer ${env("CIVIC_BALLOT_CLIENT_KEY")}` };
const ballotAdmin = { Authorization: `Bearer ${env("CIVIC_BALLOT_ADMIN_KEY")}` };
const run = Date.now().toString(36);

async function cities(): Promise<Events["schemas"]["City"][]> {
  // Create with an Idempotency-Key: a retry replays the first answer.
  const made: Events["schemas"]["City"][] = [];
  for (const [index, name, region, zone] of [
    [0, "Саров", "Нижегородская область", "Europe/Moscow"],
    [1, "Заречный", "Пензенская область", "Europe/Moscow"],
    [2, "Заречный", "Свердловская область", "Asia/Yekaterinburg"],
  ] as const) {
    const body: Events["schemas"]["CityInput"] = { name, region, time_zone: zone, tags: ["atom-city"] };
    const key = `ts-${run}-city-${index}`;  // header values are ASCII
    const first = await events.POST("/v1/cities", { body, params: { header: { "Idempotency-Key": key } } });
    check(first.response.status === 201 && first.data !== undefined, `create city: ${first.response.status}`);
    const again = await events.POST("/v1/cities", { body, params: { header: { "Idempotency-Key": key } } });
    check(again.response.status === 201, "replay status");
    check(again.response.headers.get("Idempotency-Replayed") === "true", "replay header");
    check(again.data?.id === first.data.id, "a replay answers the same city");
    made.push(first.data);
  }
  // A different body under a used key: a problem the client can tell apart.
  const reused = await events.POST("/v1/cities", {
    body: { name: "Озёрск", time_zone: "Asia/Yekaterinburg" },
    params: { header: { "Idempotency-Key": `ts-${run}-city-0` } },
  });
  expectCode(reused.error, "idempotency-key-reused", "reused key");
  // A bad field: validation-failed naming it.
  const bad = await events.POST("/v1/cities", { body: { name: "", time_zone: "Mars/Olympus" } });
  const problem = expectCode(bad.error, "validation-failed", "bad city");
  check(advice(problem).includes("time_zone"), `advice: ${advice(problem)}`);
  return made;
}

async function paging(): Promise<void> {
  // Pages of two, following `next`, each with its ETag; the same page again is a 304.
  let cursor: string | undefined;
  let seen = 0;
  for (let page = 0; page < 100; page++) {
    const answer = await events.GET("/v1/cities", {
      params: { query: { tag: "atom-city", limit: 2, sort: "id", ...(cursor ? { cursor } : {}) } },
    });
    check(answer.data !== undefined, `list cities: ${answer.response.status}`);
    seen += answer.data.items.length;
    const etag = answer.response.headers.get("ETag");
    check(etag !== null, "a list answer has an ETag");
    const unchanged = await events.GET("/v1/cities", {
      params: {
        query: { tag: "atom-city", limit: 2, sort: "id", ...(cursor ? { cursor } : {}) },
        header: { "If-None-Match": etag },
      },
    });
    check(unchanged.response.status === 304, `If-None-Match: ${unchanged.response.status}`);
    if (answer.data.next === null) {
      break;
    }
    cursor = answer.data.next;
  }
  check(seen >= 3, `paging saw ${seen} cities`);
}

async function registrations(city: Events["schemas"]["City"]): Promise<void> {
  const hour = 3600 * 1000;
  const event = await events.POST("/v1/events", {
    body: {
      kind: "rally",
      title: `Слёт городских команд ${run}`,
      city_id: city.id,
      starts_at: new Date(Date.now() + 48 * hour).toISOString(),
      ends_at: new Date(Date.now() + 72 * hour).toISOString(),
      capacity: 250,
      status: "published",
    },
  });
  check(event.data !== undefined, `create event: ${event.response.status} ${JSON.stringify(event.error)}`);
  const person = await events.POST("/v1/people", { body: { name: "Вера Синицына", city_id: city.id } });
  check(person.data !== undefined, "create person");
  const eventId = event.data.id;
  const registered = await events.POST("/v1/events/{id}/registrations", {
    params: { path: { id: eventId } },
    body: { person_id: person.data.id },
  });
  check(registered.data?.status === "confirmed", `register: ${registered.response.status}`);
  const twice = await events.POST("/v1/events/{id}/registrations", {
    params: { path: { id: eventId } },
    body: { person_id: person.data.id },
  });
  expectCode(twice.error, "already-registered", "second registration");
  const etag = registered.response.headers.get("ETag") ?? "*";
  const cancelled = await events.DELETE("/v1/registrations/{id}", {
    params: { path: { id: registered.data.id }, header: { "If-Match": etag } },
  });
  check(cancelled.data?.status === "cancelled", `cancel: ${cancelled.response.status}`);
  const again = await events.DELETE("/v1/registrations/{id}", {
    params: { path: { id: registered.data.id } },
  });
  expectCode(again.error, "not-cancellable", "second cancel");
}

async function votes(cities: Events["schemas"]["City"][]): Promise<void> {
  const hour = 3600 * 1000;
  const [, penza, sverdlovsk] = cities;
  check(penza !== undefined && sverdlovsk !== undefined, "the two Заречный");
  const award = await events.POST("/v1/awards", {
    body: {
      title: `Новые Созидатели ${run}`,
      edition_year: 2026,
      voting_opens_at: new Date(Date.now() - hour).toISOString(),
      voting_closes_at: new Date(Date.now() + hour).toISOString(),
      max_choices_per_nomination: 1,
      results_visibility: "live",
      status: "published",
    },
  });
  check(award.data !== undefined, `create award: ${JSON.stringify(award.error)}`);
  const nomination = await events.POST("/v1/nominations", {
    body: { award_id: award.data.id, title: "Лидер изменений" },
  });
  check(nomination.data !== undefined, "create nomination");
  const nominees: number[] = [];
  for (const [name, city] of [["Ирина Лебедева", penza], ["Павел Кречетов", sverdlovsk]] as const) {
    const person = await events.POST("/v1/people", { body: { name, city_id: city.id } });
    check(person.data !== undefined, `create person: ${JSON.stringify(person.error)}`);
    const nominee = await events.POST("/v1/nominees", {
      body: { nomination_id: nomination.data.id, kind: "person", person_id: person.data.id, name, city_id: city.id },
    });
    check(nominee.data !== undefined, `create nominee: ${JSON.stringify(nominee.error)}`);
    nominees.push(nominee.data.id);
  }
  const awardId = award.data.id;
  const [irina, pavel] = nominees;
  check(irina !== undefined && pavel !== undefined, "two nominees");
  const synced = await ballot.POST("/v1/awards/{award}/sync", {
    params: { path: { award: awardId } },
    headers: ballotAdmin,
  });
  check(synced.response.ok, `ballot sync: ${synced.response.status}`);

  // A single vote, then the same vote again (the same receipt), then another nominee.
  const vote: Ballot["schemas"]["Vote"] = { voter: `resident-${run}-1`, nomination: nomination.data.id, nominee: irina };
  const cast = await ballot.POST("/v1/awards/{award}/votes", {
    params: { path: { award: awardId } },
    body: vote,
    headers: client,
  });
  check(cast.response.status === 201 && cast.data !== undefined, `vote: ${cast.response.status}`);
  const receipt = cast.data.receipt;
  const retry = await ballot.POST("/v1/awards/{award}/votes", {
    params: { path: { award: awardId } },
    body: vote,
    headers: client,
  });
  check(retry.response.status === 200 && retry.data?.receipt === receipt, "a retried vote keeps its receipt");
  const other = await ballot.POST("/v1/awards/{award}/votes", {
    params: { path: { award: awardId } },
    body: { ...vote, nominee: pavel },
    headers: client,
  });
  const refused = expectCode(other.error, "already-voted", "a second choice");
  check(advice(refused) === "show the voter's earlier choice", "advice for already-voted");

  // A batch: two new voters and one refused vote, each with its own outcome.
  const batch = await ballot.POST("/v1/votes/batch", {
    body: {
      votes: [
        { award: awardId, voter: `resident-${run}-2`, nomination: nomination.data.id, nominee: pavel, client_ref: "a" },
        { award: awardId, voter: `resident-${run}-3`, nomination: nomination.data.id, nominee: pavel, client_ref: "b" },
        { award: awardId, voter: `resident-${run}-1`, nomination: nomination.data.id, nominee: pavel, client_ref: "c" },
      ],
    },
    headers: client,
  });
  check(batch.data !== undefined, `batch: ${batch.response.status}`);
  check(batch.data.counted === 2 && batch.data.rejected === 1, `batch counts: ${JSON.stringify(batch.data)}`);
  const rejected = batch.data.results[2];
  check(rejected?.error?.code === "already-voted", `batch refusal: ${JSON.stringify(rejected)}`);

  // Live results and the receipt.
  const results = await ballot.GET("/v1/awards/{award}/results", { params: { path: { award: awardId } } });
  check(results.data !== undefined, `results: ${results.response.status}`);
  check(results.data.total_votes === 3, `total votes: ${results.data.total_votes}`);
  const checked = await ballot.GET("/v1/receipts/{receipt}", { params: { path: { receipt } } });
  check(checked.data?.counted === true && checked.data.nominee_id === irina, "receipt");
}

async function main(): Promise<void> {
  const made = await cities();
  await paging();
  const [sarov] = made;
  check(sarov !== undefined, "Саров was made");
  await registrations(sarov);
  await votes(made);
  console.log("contract client: every call answered as the contract says");
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
