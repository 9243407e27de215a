// Type declarations for jinglegate.js, the browser client of jinglegate.
// See docs/client.md for the guide and docs/protocol.md for the wire protocol.

/** The protocol version this client speaks. */
export declare const PROTOCOL: 1;

/** A media kind. */
export type MediaKind = 'audio' | 'video';

/** A presence "show" value as sent; '' is plain available. */
export type Show = '' | 'away' | 'chat' | 'dnd' | 'xa';

/** Error codes: the gateway's (docs/protocol.md, "Errors"), then the client's own. */
export type ErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'rate-limited'
  | 'too-large'
  | 'unavailable'
  | 'timeout'
  | 'internal'
  /** the client (or the call) is closed */
  | 'closed'
  /** no camera or microphone API (an insecure page) */
  | 'media'
  /** the RTCPeerConnection could not negotiate */
  | 'negotiation';

/** A Jingle reason (XEP-0166 §7.4), plus answered-elsewhere. */
export type Reason =
  | 'alternative-session'
  | 'busy'
  | 'cancel'
  | 'connectivity-error'
  | 'decline'
  | 'expired'
  | 'failed-application'
  | 'failed-transport'
  | 'general-error'
  | 'gone'
  | 'incompatible-parameters'
  | 'media-error'
  | 'security-error'
  | 'success'
  | 'timeout'
  | 'unsupported-applications'
  | 'unsupported-transports'
  | 'answered-elsewhere';

/** An error answered by the gateway, or raised by the client. */
export declare class JinglegateError extends Error {
  constructor(code: ErrorCode | string, message: string, extra?: { sid?: string; id?: string; cause?: unknown });
  readonly name: 'JinglegateError';
  /** The gateway's error code (stable), or one of the client's. */
  readonly code: ErrorCode;
  /** The call the error is about, if any. */
  readonly sid?: string;
  /** The id of the request it answers, if any. */
  readonly id?: string;
}

/** bareJID strips the resource: "bob@example.org/phone" → "bob@example.org". */
export declare function bareJID(jid: string): string;

/** A token, or a function giving a fresh one (called on every connection attempt). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ReconnectOptions {
  /** First delay, in ms (500). */
  minDelay?: number;
  /** Largest delay, in ms (30000). */
  maxDelay?: number;
  /** Growth per failed attempt (2). */
  factor?: number;
  /** Fraction of the delay taken off at random, 0..1 (0.5). */
  jitter?: number;
}

export interface ClientOptions {
  /** The gateway's WebSocket: "wss://gw.example.org/ws", "https://gw.example.org", or a path ("/ws", the default). */
  url?: string;
  /** The JWT (HS256, sub = user), or a function returning one. Required. */
  token: TokenSource;
  /** Reconnection backoff, or false to give up when the connection drops. */
  reconnect?: ReconnectOptions | false;
  /** Tries to open the first session before connect() rejects (3). */
  initialAttempts?: number;
  /** How long a request waits for its answer once written, in ms (30000). */
  requestTimeout?: number;
  /** Quiet time before the client pings the gateway, in ms (25000). */
  pingInterval?: number;
  /** How long a ping may go unanswered before the connection counts as dead, in ms (10000). */
  pingTimeout?: number;
  /** How long to wait for the session message after connecting, in ms (15000). */
  sessionTimeout?: number;
  /** Fetch the roster on every new session (true). */
  autoRoster?: boolean;
  /** Log out when the page is unloaded for good (pagehide, not into the back-forward cache) (true). */
  logoutOnPageHide?: boolean;
  /** ICE servers added to those of the session message. */
  iceServers?: RTCIceServer[];
  /** Extra RTCConfiguration for every call (iceServers is merged, not replaced). */
  rtcConfig?: RTCConfiguration;
  /** Default getUserMedia constraints per kind. */
  media?: { audio?: MediaTrackConstraints | boolean; video?: MediaTrackConstraints | boolean };
  /** ICE restarts tried before a call that lost connectivity is hung up (3). */
  iceRestarts?: number;
  /** How long ICE may stay "disconnected" before a restart, in ms (4000). */
  disconnectedGraceMs?: number;
  /** Where the client logs (warnings and errors go to the console by default). */
  logger?: Pick<Console, 'debug' | 'info' | 'warn' | 'error'>;
  /** A WebSocket implementation (the browser's by default). */
  WebSocket?: typeof WebSocket;
}

export interface Limits {
  maxMessageBytes: number;
  ratePerSecond: number;
  rateBurst: number;
}

/** The session: this tab's identity at the gateway. */
export interface Session {
  /** The tab's full JID, user@gateway-domain/resource. */
  readonly jid: string;
  /** The user's localpart (the token's sub). */
  readonly user: string;
  /** The token's display name, or ''. */
  readonly name: string;
  /** Whether this connection resumed the previous one's session. */
  readonly resumed: boolean;
  readonly lastSeq: number;
  readonly resumeGraceMs: number;
  /** STUN and TURN servers for calls (TURN credentials are minted per connection). */
  readonly iceServers: RTCIceServer[];
  readonly limits: Limits;
}

export type ClientState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** One online resource (device) of a contact. */
export interface Resource {
  /** Full JID. */
  jid: string;
  available: boolean;
  show: Show;
  status: string;
  priority: number;
  /** What the device can do, from its capabilities. */
  media: MediaKind[];
  /** It does Jingle. */
  jingle: boolean;
  /** It does Jingle Message Initiation (XEP-0353): it can be rung through the bare JID. */
  jmi: boolean;
  /** Its capabilities are known (media, jingle and jmi mean something). */
  capsKnown: boolean;
}

/** A roster entry with its live presence (a snapshot: read client.roster again after 'roster'). */
export interface Contact {
  /** Bare JID. */
  readonly jid: string;
  readonly name: string;
  /** name, or the JID when there is none. */
  readonly displayName: string;
  readonly groups: string[];
  readonly subscription: 'none' | 'to' | 'from' | 'both' | string;
  /** Our subscription request is pending. */
  readonly ask: boolean;
  /** Their subscription request waits for approve() or deny(). */
  readonly pendingIn: boolean;
  /** Pre-approved. */
  readonly approved: boolean;
  /** At least one resource is online. */
  readonly available: boolean;
  /** The best resource's show: 'available' for plain presence, 'offline' when none is online. */
  readonly show: 'available' | 'chat' | 'away' | 'xa' | 'dnd' | 'offline';
  readonly status: string;
  /** Media some online resource can do. */
  readonly media: MediaKind[];
  /** Some online resource can be called. */
  readonly callable: boolean;
  /** Online resources, best first. */
  readonly resources: Resource[];
}

/** The raw roster item of the protocol. */
export interface RosterItem {
  jid: string;
  name?: string;
  groups: string[];
  subscription: string;
  ask?: boolean;
  pendingIn?: boolean;
  approved?: boolean;
  resources: Array<Omit<Resource, 'show' | 'status' | 'priority' | 'media'> & Partial<Pick<Resource, 'show' | 'status' | 'priority' | 'media'>>>;
}

export interface SubscriptionRequest {
  /** Bare JID of who asks. */
  jid: string;
  /** The nickname they gave, or ''. */
  name: string;
}

export interface CallOptions {
  /** Send audio: true, constraints, or false (default true). */
  audio?: boolean | MediaTrackConstraints;
  /** Send video: true, constraints, or false (default false to call; to accept, whether the caller offered video). */
  video?: boolean | MediaTrackConstraints;
  /** Use this stream instead of asking getUserMedia (its tracks are not stopped at the end). */
  stream?: MediaStream;
  /** The call's sid (random by default). */
  sid?: string;
  /** Resolve a bare JID to a resource when none can be rung through XEP-0353 (true). Client.call only. */
  resolve?: boolean;
}

export interface ClientEventMap {
  statechange: CustomEvent<{ state: ClientState }>;
  /** A session began: the first, a resumed one, or a new one after the old was lost (lost: its calls ended). */
  session: CustomEvent<{ session: Session; resumed: boolean; lost: boolean }>;
  /** The connection dropped; the next attempt is in delay ms. */
  reconnecting: CustomEvent<{ attempt: number; delay: number; code?: number; reason?: string }>;
  /** The client stopped for good. */
  closed: CustomEvent<{ reason: 'closed' | 'logout' | 'replaced' | 'failed' | 'lost'; code?: number; text: string }>;
  /** The contacts changed (roster, push or presence). */
  roster: CustomEvent<{ contacts: Contact[] }>;
  'roster-push': CustomEvent<{ item: RosterItem; removed: boolean; contact?: Contact }>;
  presence: CustomEvent<Resource & { contact?: Contact }>;
  'subscribe-request': CustomEvent<SubscriptionRequest>;
  /**
   * A call exists (outgoing, from client.call(), or incoming). replaces: the
   * sid of this tab's outgoing call that this one replaces after both sides
   * called each other at once (it is answered at once, with that call's media).
   */
  call: CustomEvent<{ call: Call; replaces?: string }>;
  /** A call rings: accept() or reject() it. */
  incoming: CustomEvent<{ call: Call; from: string; media: MediaKind[]; contact?: Contact }>;
  /** An error the gateway sent that answers no request. */
  error: CustomEvent<{ error: JinglegateError }>;
}

/**
 * The base of Client and Call. Not exported by jinglegate.js: the
 * `export {}` at the end of this file keeps it (and anything else declared
 * without `export`) out of the module's exports.
 */
declare class Emitter<M> extends EventTarget {
  /** Calls fn(detail, event) for each event of type; returns a function that removes the listener. */
  on<K extends keyof M>(type: K, fn: (detail: M[K] extends CustomEvent<infer D> ? D : never, event: M[K]) => void): () => void;
  addEventListener<K extends keyof M>(type: K, listener: (this: this, ev: M[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof M>(type: K, listener: (this: this, ev: M[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/** One session with the gateway: a tab with a full JID of its own. */
export declare class Client extends Emitter<ClientEventMap> {
  constructor(options: ClientOptions);
  readonly state: ClientState;
  readonly session: Session | null;
  /** The tab's full JID, once connected. */
  readonly jid: string | null;
  readonly connected: boolean;

  /** Opens the session; resolves once it is up (and the roster has arrived, with autoRoster). */
  connect(): Promise<Session>;
  /** Ends the session (logout: calls end, contacts see the tab leave) and stops reconnecting. */
  close(opts?: { logout?: boolean }): Promise<void>;

  /** The contacts, sorted by name. */
  readonly roster: Contact[];
  contact(jid: string): Contact | undefined;
  /** Subscription requests waiting for an answer. */
  readonly subscriptionRequests: SubscriptionRequest[];
  refreshRoster(): Promise<Contact[]>;
  /** Adds jid to the roster and asks to see their presence. */
  add(jid: string, opts?: { name?: string; groups?: string[] }): Promise<void>;
  /** Removes jid, cancelling subscriptions both ways. */
  remove(jid: string): Promise<void>;
  rename(jid: string, opts: { name?: string; groups?: string[] }): Promise<void>;
  /** Lets jid see this user's presence. */
  approve(jid: string): Promise<void>;
  /** Refuses jid's subscription request. */
  deny(jid: string): Promise<void>;
  /** Asks jid (again) to see their presence. */
  subscribe(jid: string): Promise<void>;
  /** Sets this tab's presence; re-applied on new sessions. */
  setPresence(p?: { show?: Show; status?: string; priority?: number }): Promise<void>;

  /** The calls in progress. */
  readonly calls: Call[];
  getCall(sid: string): Call | undefined;
  /** The address client.call(jid) would ring. */
  callTarget(jid: string): string;
  /** Starts a call; resolves once the gateway accepted the request (the 'call' event fires earlier). */
  call(jid: string, opts?: CallOptions): Promise<Call>;
}

/** Makes a Client and opens its session (new Client(options), then connect()). */
export declare function connect(options: ClientOptions): Promise<Client>;

export type CallState = 'calling' | 'ringing' | 'incoming' | 'connecting' | 'active' | 'ended';

export interface CallEventMap {
  statechange: CustomEvent<{ state: CallState; from: CallState }>;
  /** The callee's device rings. */
  ringing: CustomEvent<{}>;
  /** The local stream changed (acquired, video added or removed). */
  localstream: CustomEvent<{ stream: MediaStream | null }>;
  /** A remote track arrived. */
  track: CustomEvent<{ track: MediaStreamTrack; kind: MediaKind; transceiver: RTCRtpTransceiver }>;
  /** What the peer sends changed (a track came, was muted, unmuted or ended). */
  remotemedia: CustomEvent<{ stream: MediaStream; audio: boolean; video: boolean }>;
  /** Local mute changed. */
  mute: CustomEvent<{ muted: { audio: boolean; video: boolean }; kinds: MediaKind[] }>;
  /** Local hold changed. */
  hold: CustomEvent<{ held: boolean }>;
  /** The peer muted, unmuted, held or resumed. */
  sessioninfo: CustomEvent<{ info: 'mute' | 'unmute' | 'hold' | 'active'; media: MediaKind[]; remoteMuted: { audio: boolean; video: boolean }; remoteHeld: boolean }>;
  /** An offer/answer exchange completed. */
  negotiated: CustomEvent<{}>;
  connectionstatechange: CustomEvent<{ connectionState: RTCPeerConnectionState }>;
  error: CustomEvent<{ error: JinglegateError }>;
  ended: CustomEvent<{ reason: Reason | string; text: string; error?: Error }>;
}

/** One call. Made by Client.call(), or handed out by the 'incoming' event. */
export declare class Call extends Emitter<CallEventMap> {
  private constructor();
  readonly sid: string;
  readonly direction: 'outgoing' | 'incoming';
  /** The other party: as called, or the caller's full JID. */
  readonly peer: string;
  /** The media the call was placed or offered with. */
  readonly media: MediaKind[];
  readonly state: CallState;
  /** Whether this side is the polite peer of perfect negotiation (the callee is). */
  readonly polite: boolean;
  readonly localStream: MediaStream | null;
  /** The peer's audio and video as one stream. */
  readonly remoteStream: MediaStream;
  readonly peerConnection: RTCPeerConnection | null;
  readonly connectionState: RTCPeerConnectionState;
  readonly muted: { audio: boolean; video: boolean };
  readonly remoteMuted: { audio: boolean; video: boolean };
  readonly held: boolean;
  readonly remoteHeld: boolean;
  readonly sendingVideo: boolean;
  readonly receivingVideo: boolean;
  /** When media first flowed (ms since the epoch), or 0. */
  readonly startedAt: number;
  readonly endReason: Reason | string | null;
  readonly endText: string;
  readonly error: Error | null;

  /** Answers an incoming call (acquiring the camera and microphone first). */
  accept(opts?: CallOptions): Promise<void>;
  /** Declines an incoming call. */
  reject(reason?: Reason, text?: string): Promise<void>;
  /** Ends the call, or cancels it while it rings. */
  hangup(reason?: Reason, text?: string): Promise<void>;
  /** Mutes (or unmutes) audio, video, or both when kind is undefined, and tells the peer (set before the call is live: once it is). */
  mute(kind?: MediaKind, on?: boolean): Promise<void>;
  /** Puts the call on hold (or resumes it) and tells the peer (set before the call is live: once it is). */
  hold(on?: boolean): Promise<void>;
  /** Starts sending the camera; resolves once the peer answered the renegotiation. */
  addVideo(video?: MediaTrackConstraints | MediaStreamTrack): Promise<void>;
  /** Stops sending the camera; resolves once the peer answered the renegotiation. */
  removeVideo(): Promise<void>;
  /** Restarts ICE (after a network change), with the current session's ICE servers (fresh TURN credentials). */
  restartIce(): void;
  /** RTCPeerConnection.getStats(). */
  getStats(selector?: MediaStreamTrack | null): Promise<RTCStatsReport | Map<string, unknown>>;
  /** A summary of getStats(), with bitrates since the previous call of stats(). */
  stats(): Promise<StatsSummary>;
}

export interface StreamStats {
  /** e.g. "opus", "VP8". */
  codec: string | null;
  /** Since the previous summary; null on the first. */
  kbps: number | null;
  bytes: number;
  packets: number;
  /** Inbound only. */
  packetsLost: number;
  jitterMs: number | null;
}

export interface VideoStreamStats extends StreamStats {
  /** Frames decoded (inbound) or encoded (outbound). */
  frames: number;
  fps: number | null;
  width: number | null;
  height: number | null;
}

export interface StatsSummary {
  timestamp: number;
  /** Round-trip time of the selected candidate pair (or RTCP), ms. */
  rttMs: number | null;
  localCandidateType: 'host' | 'srflx' | 'prflx' | 'relay' | null;
  remoteCandidateType: 'host' | 'srflx' | 'prflx' | 'relay' | null;
  protocol: 'udp' | 'tcp' | null;
  availableOutgoingKbps: number | null;
  audio: { in: StreamStats | null; out: StreamStats | null };
  video: { in: VideoStreamStats | null; out: VideoStreamStats | null };
  /** Byte counters for the next summary's bitrates. */
  counters: Record<string, { bytes: number; timestamp: number }>;
}

/** Summarises an RTCStatsReport; pass the previous summary for bitrates. */
export declare function summarizeStats(report: RTCStatsReport | Map<string, any>, previous?: StatsSummary | null): StatsSummary;

// In a declaration file every top-level declaration is importable unless the
// file has an export declaration: this one makes Emitter private, as it is
// in jinglegate.js.
export {};
