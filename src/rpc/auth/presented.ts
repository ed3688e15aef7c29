/**
 * What a request presents to authenticate, read off each front-end: gRPC's `token` metadata (else
 * `authorization`, which etcd's gateway forwards), and the client certificate of a TLS connection;
 * the gateway's `Authorization` header (the raw token, as lua-resty-etcd sends it).
 */
import type * as grpc from '@grpc/grpc-js';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { PresentedCredentials } from './tokens';

function firstString(md: grpc.Metadata, key: string): string | undefined {
  const v = md.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/** What grpc-js's getAuthContext() gives on a TLS connection (its type is not exported). */
interface GrpcAuthContext {
  sslPeerCertificate?: { subject?: { CN?: string | string[] } };
}

/**
 * A call's credentials; the certificate comes from grpc-js's auth context of a TLS connection
 * (with --client-cert-auth the handshake has already refused certificates the CA did not sign).
 */
export function presentedByGrpc(call: { metadata: grpc.Metadata; getAuthContext?: () => GrpcAuthContext | null }): PresentedCredentials {
  const token = firstString(call.metadata, 'token') ?? firstString(call.metadata, 'authorization');
  if (token !== undefined) return { token, commonName: undefined };
  const cert = call.getAuthContext?.()?.sslPeerCertificate;
  return { token: undefined, commonName: commonNameOf(cert?.subject?.CN) };
}

/** A gateway request's token. etcd's gateway never takes a certificate's name for the user. */
export function presentedByHttp(req: IncomingMessage): PresentedCredentials {
  return { token: req.headers.authorization, commonName: undefined };
}

/** The Common Name of a gateway client's verified certificate, if it came over TLS with one. */
export function gatewayCommonName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return undefined;
  return commonNameOf(socket.getPeerCertificate().subject?.CN);
}

/** Node gives a repeated attribute as an array; Go's x509 takes the first CN. */
function commonNameOf(cn: string | string[] | undefined): string | undefined {
  const v = Array.isArray(cn) ? cn[0] : cn;
  return v ? v : undefined;
}
