// The Parley HTTP API as the web client uses it: JSON in and out, problem documents as errors,
// and the signed-in session kept in localStorage (one per browser profile).

export const API = "/api/v1";
const SESSION_KEY = "parley.session";
const APPEAL_KEY = "parley.appeal";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title || `Request failed (${status})`);
    this.status = status;
    this.code = problem?.code || "http_error";
    this.problem = problem || {};
  }
}

// A JSON value kept in browser storage, or null when absent or unreadable.
function stored(storage, key) {
  try {
    return JSON.parse(storage.getItem(key)) || null;
  } catch {
    return null;
  }
}

function store(storage, key, value) {
  if (value) storage.setItem(key, JSON.stringify(value));
  else storage.removeItem(key);
}

// {token, account: {id, handle, display_name}, admin: bool} or null.
export function currentSession() {
  return stored(localStorage, SESSION_KEY);
}

export function saveSession(session) {
  store(localStorage, SESSION_KEY, session);
  window.dispatchEvent(new CustomEvent("parley:session"));
}

// What a suspended account's refused sign-in gave it: {notice, appeal_token, handle}.
export function appealSession() {
  return stored(sessionStorage, APPEAL_KEY);
}

export function saveAppealSession(value) {
  store(sessionStorage, APPEAL_KEY, value);
}

// api("POST", "/spaces", {title}) -> parsed JSON (or null for 204). Throws ApiError.
// `token` overrides the session's (the appeal token), `signal` aborts.
export async function api(method, path, body, { token, signal } = {}) {
  const bearer = token ?? currentSession()?.token;
  const headers = { accept: "application/json" };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response;
  try {
    response = await fetch(`${API}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { code: "network", title: "Parley can't be reached. Check your connection." });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    // A session revoked elsewhere (sign-out, suspension): forget it here too.
    if (response.status === 401 && !token && currentSession()) saveSession(null);
    throw error;
  }
  return parsed;
}

export const get = (path, options) => api("GET", path, undefined, options);

// GET /status as this page load first read it, shared by whoever needs what only an operator's
// restart changes (live captions, the docs); a failed read is tried again by the next caller.
// Feature switches change any time: app.refreshStatus reads them afresh.
let firstStatus;
export function instanceStatus() {
  firstStatus ??= get("/status").catch((error) => {
    firstStatus = undefined;
    throw error;
  });
  return firstStatus;
}

// Runs `then` if the signed-in account is limited, read fresh (a limit may have come since
// sign-in). A screen that cannot learn it stays as it was drawn: the server refuses what a
// limited account may not do anyway.
export function whenLimited(then) {
  get("/me")
    .then((me) => {
      if (me.state === "limited") then();
    })
    .catch(() => {});
}
export const post = (path, body, options) => api("POST", path, body ?? undefined, options);
export const del = (path, options) => api("DELETE", path, undefined, options);

export function q(value) {
  return encodeURIComponent(value);
}
