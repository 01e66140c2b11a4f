// What both generators must make of the contract (tests/contract/ts-client/run.sh): compiled
// with `tsc --strict --noEmit`, so a field that is wrongly optional, wrongly required or typed
// `never` fails the build. Each `@ts-expect-error` fails the build if the error it expects does
// not happen.
import type * as Sta from "./generated-sta/events-api.js";
import type * as StaBallot from "./generated-sta/ballot.js";
import type { components as Ballot } from "./generated/ballot.js";
import type { components as Events } from "./generated/events-api.js";

// openapi-typescript
type City = Events["schemas"]["City"];
type CityInput = Events["schemas"]["CityInput"];
type EventInput = Events["schemas"]["EventInput"];

export const cityInput: CityInput = { name: "Саров", time_zone: "Europe/Moscow" };
// @ts-expect-error time_zone is required in a new city
export const cityWithoutZone: CityInput = { name: "Саров" };
// Fields the server defaults are not required of the client.
export const eventInput: EventInput = {
  kind: "forum",
  title: "Якутск 4.0.0 Старт",
  city_id: 1,
  starts_at: "2026-10-01T09:00:00+09:00",
  ends_at: "2026-10-02T18:00:00+09:00",
};
// A city read back has every field: no "possibly undefined".
export function cityLine(city: City): string {
  return `${city.name.toUpperCase()}, ${city.region.toUpperCase()} (${city.time_zone}) #${city.id}`;
}
export function problemCode(problem: Events["schemas"]["Problem"]): Events["schemas"]["ProblemCode"] {
  return problem.code;
}
// @ts-expect-error a problem code is one of the documented ones
export const unknownCode: Events["schemas"]["ProblemCode"] = "capacity-exploded";
export const vote: Ballot["schemas"]["Vote"] = { voter: "v-1", nomination: 1, nominee: 2 };
// @ts-expect-error a vote names its nominee
export const voteWithoutNominee: Ballot["schemas"]["Vote"] = { voter: "v-1", nomination: 1 };
export function receiptOf(answer: Ballot["schemas"]["VoteReceipt"]): string {
  return answer.receipt.toLowerCase();
}

// swagger-typescript-api
export const staCityInput: Sta.CityInput = { name: "Саров", time_zone: "Europe/Moscow" };
// @ts-expect-error time_zone is required in a new city
export const staCityWithoutZone: Sta.CityInput = { name: "Саров" };
export const staEventInput: Sta.EventInput = { ...eventInput };
export function staCityLine(city: Sta.City): string {
  return `${city.name.toUpperCase()}, ${city.region.toUpperCase()} (${city.time_zone}) #${city.id}`;
}
export function staProblemCode(problem: Sta.Problem): Sta.ProblemCode {
  return problem.code;
}
export const staVote: StaBallot.Vote = { voter: "v-1", nomination: 1, nominee: 2 };
// @ts-expect-error a vote names its nominee
export const staVoteWithoutNominee: StaBallot.Vote = { voter: "v-1", nomination: 1 };
