/**
 * The small interface through which the gateway's application code talks to "the broker".
 * Two implementations: the embedded aedes broker (embedded-link.ts) and an MQTT.js client
 * connected to an external broker such as Mosquitto or an EMQX cluster (external-link.ts).
 * Nothing outside gateway/src/broker/ knows which one is in use.
 */
import type { Component } from '../lib/component.js';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** True when the broker marked the PUBLISH as a redelivery (MQTT 3.1.1 §3.3.1.1 DUP). */
  dup: boolean;
  retain: boolean;
}

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}

export interface BrokerLink extends Component {
  /** Receives every message on topics matching `filter` (MQTT wildcards allowed). */
  subscribe(filter: string, handler: (msg: InboundMessage) => void): Promise<void>;
  /** Publishes; resolves when the broker took the message (embedded) or PUBACKed it (external). */
  publish(topic: string, payload: string | Buffer, opts?: PublishOptions): Promise<void>;
  /** Device ids currently connected (embedded only knows this exactly; external estimates from state topics). */
  connectedDevices(): ReadonlySet<string>;
  /** Called when a device connects or disconnects. */
  onPresence(handler: (deviceId: string, online: boolean) => void): void;
}
