// A throwaway certificate authority for mTLS on loopback: Envoy's listener presents a server
// certificate and validates clients against the CA; clients present certificates whose URI SAN
// is a SPIFFE identity, as Istio's workload certificates do. Made with the openssl CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair { cert: string; key: string }

export interface ClientTls { ca: string; cert?: string; key?: string }

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl is needed for mTLS (apt install openssl): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

export class Pki {
  readonly dir = mkdtempSync(join(tmpdir(), 'wfk-pki-'));
  private readonly clients = new Map<string, KeyPair>();
  private serial = 1;
  readonly server: KeyPair;

  constructor() {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2',
      '-subj', '/CN=wasm-filter-kit test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'], this.dir);
    this.server = this.issue('server', 'DNS:localhost,IP:127.0.0.1');
  }

  /** The CA certificate's file, for Envoy's trusted_ca. */
  get caFile(): string { return join(this.dir, 'ca.crt'); }

  /** A client certificate (files) whose URI SAN is `uri`, e.g. spiffe://cluster.local/ns/bookinfo/sa/reviews. */
  client(uri: string): KeyPair {
    let pair = this.clients.get(uri);
    if (!pair) { pair = this.issue(`client${this.clients.size}`, `URI:${uri}`); this.clients.set(uri, pair); }
    return pair;
  }

  /** What a Node TLS client needs: the CA and, for mTLS, a client certificate for `uri`. */
  clientTls(uri?: string): ClientTls {
    const ca = readFileSync(this.caFile, 'utf8');
    if (!uri) return { ca };
    const pair = this.client(uri);
    return { ca, cert: readFileSync(pair.cert, 'utf8'), key: readFileSync(pair.key, 'utf8') };
  }

  /** A DownstreamTlsContext for Envoy: the server certificate; client certificates validated against the CA. */
  downstreamTlsContext(requireClientCertificate: boolean): Record<string, unknown> {
    return {
      name: 'envoy.transport_sockets.tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
        require_client_certificate: requireClientCertificate,
        common_tls_context: {
          tls_certificates: [{ certificate_chain: { filename: this.server.cert }, private_key: { filename: this.server.key } }],
          validation_context: { trusted_ca: { filename: this.caFile } },
        },
      },
    };
  }

  close(): void { rmSync(this.dir, { recursive: true, force: true }); }

  private issue(name: string, san: string): KeyPair {
    writeFileSync(join(this.dir, `${name}.ext`), `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], this.dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(this.serial++), '-days', '2',
      '-out', `${name}.crt`, '-extfile', `${name}.ext`], this.dir);
    return { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
  }
}
