/**
 * Why the broker refused a connection or a packet: the label values of
 * `packline_mqtt_refused_total{reason}` (docs/http.md) and the keys of `BrokerStats.refused`.
 * Every refusal the broker makes is counted under exactly one of these.
 */
export const MQTT_REFUSAL_REASONS = [
  /** CONNACK 4/5/3: unknown device, wrong secret, no credentials, registry unavailable. */
  'auth',
  /** CONNACK 2: client id not the device's own, or empty with CleanSession=0 ([MQTT-3.1.3-8]). */
  'client_id',
  /** CONNACK 1: a protocol level other than 3.1.1 (4) or 3.1 (3) ([MQTT-3.1.2-2]). */
  'protocol',
  /** Closed without CONNACK: `mqtt.limits.maxConnections` reached. */
  'connection_limit',
  /** PUBLISH outside the client's ACL (acknowledged and dropped, [MQTT-3.3.5-2]). */
  'acl_publish',
  /** SUBSCRIBE filter outside the client's ACL (SUBACK 0x80). */
  'acl_subscribe',
  /** PUBLISH over the per-connection token bucket (acknowledged and dropped). */
  'rate_limited',
  /** Packet over `mqtt.limits.maxPacketSize`: the connection is closed before the body is read. */
  'packet_too_large',
  /** Retained PUBLISH on a topic the contract does not keep retained (acknowledged and dropped). */
  'retain',
  /** `dev/{id}/state` payload that is not a DeviceState (acknowledged, dropped, PKL_PAYLOAD_INVALID). */
  'state_invalid',
  /** Disconnected after `limits.disconnectAfterRefused` refusals in a row. */
  'flood_disconnect',
] as const;
export type MqttRefusalReason = (typeof MQTT_REFUSAL_REASONS)[number];

export type RefusalCounts = Record<MqttRefusalReason, number>;

export function zeroRefusals(): RefusalCounts {
  return Object.fromEntries(MQTT_REFUSAL_REASONS.map((r) => [r, 0])) as RefusalCounts;
}
