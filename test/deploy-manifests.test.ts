import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { INetworkPolicy, INetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1';
import type { IConfigMap, IContainer, IPodTemplateSpec, IService, IServiceAccount } from 'kubernetes-models/v1';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS, loadConfig, type GatewayConfig } from '../gateway/config/config.ts';
import { readTimestampSettings } from '../gateway/access-log/timestamp-settings.ts';
import { DEFAULT_WITNESS_CLOSE_WAIT_MS } from '../gateway/access-log/witness-publisher.ts';
import { DEFAULT_STAMPER_CLOSE_WAIT_MS } from '../gateway/access-log/timestamp-stamper.ts';
import { loadCatalogue } from '../gateway/catalogue/load-catalogue.ts';
import { startGateway, type Gateway } from '../gateway/gateway.ts';
import { MIGRATION_URL_VARIABLE } from '../deploy/migrate-store.ts';
import { renderKustomization, type RenderedObject } from './support/render-kustomization.ts';

/**
 * Issue 14, part 5: the Kubernetes manifests under `deploy/k8s/`. Each overlay
 * is rendered offline by kubectl's kustomize, every object is checked against
 * the Kubernetes API's schema (kubernetes-models), and then against what the
 * gateway itself needs: probes on its real routes, only settings it reads, a
 * grace period above its shutdown, non-root on a read-only root, a network
 * denied by default, and no secret in the repository.
 */

const root = fileURLToPath(new URL('..', import.meta.url));
const OVERLAYS = ['demo', 'production'] as const;
/** Where the deployment mounts the image's bureau schemas; the test reads the repository's copy. */
const IMAGE_SCHEMAS_DIR = '/app/schemas';
/** Stand-ins for the Secrets the operator creates (deploy/README.md), by Secret name: what `loadConfig` sees in their place. */
const SECRET_STAND_INS: Readonly<Record<string, string>> = {
  'isthmus-database-gateway': 'postgres://isthmus_gw:stand-in@db.invalid:5432/isthmus',
  'isthmus-database-owner': 'postgres://isthmus_owner:stand-in@db.invalid:5432/isthmus',
  'isthmus-bureau-hrss': 'postgres://isthmus_reader:stand-in@hrss.invalid:5432/hrss',
};

type Rendered = readonly RenderedObject[];
const ofKind = <T>(objects: Rendered, kind: string): T[] => objects.filter((object) => object.kind === kind) as unknown as T[];
const one = <T>(objects: Rendered, kind: string, name: string): T => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the rendered overlay`);
  return found as unknown as T;
};
const podTemplates = (objects: Rendered): { readonly owner: string; readonly template: IPodTemplateSpec }[] =>
  objects.flatMap((object) => {
    const template = (object as { spec?: { template?: IPodTemplateSpec } }).spec?.template;
    return template && ['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(object.kind) ? [{ owner: `${object.kind}/${object.metadata.name}`, template }] : [];
  });
const selects = (matchLabels: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean =>
  Object.entries(matchLabels ?? {}).every(([key, value]) => labels?.[key] === value);
const gatewayContainer = (deployment: IDeployment): IContainer => deployment.spec!.template.spec!.containers.find((container) => container.name === 'gateway')!;

/** The gateway container's environment as the kubelet would build it, Secrets replaced by their stand-ins. */
function gatewayEnvironment(objects: Rendered, container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const map = one<IConfigMap>(objects, 'ConfigMap', source.configMapRef!.name!);
    Object.assign(env, map.data);
  }
  for (const variable of container.env ?? []) {
    const secret = variable.valueFrom?.secretKeyRef?.name;
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (secret !== undefined && SECRET_STAND_INS[secret] !== undefined) env[variable.name] = SECRET_STAND_INS[secret];
    else throw new Error(`${variable.name} comes from neither a value nor a known Secret: add its stand-in to the test`);
  }
  return env;
}

/** The names `read` asks of `env`: every setting the gateway's readers look at. */
function recordReads(env: Record<string, string>): { readonly env: Record<string, string>; readonly read: Set<string> } {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, property) {
      if (typeof property === 'string') read.add(property);
      return target[property as string];
    },
  });
  return { env: proxy, read };
}

/** What the gateway reads of this environment at start-up: its configuration, the timestamp settings, the bureau manifests' `${NAME}`s. */
function readAsGateway(env: Record<string, string>): { readonly config: GatewayConfig; readonly read: ReadonlySet<string> } {
  const recorded = recordReads(env);
  const config = loadConfig(recorded.env);
  readTimestampSettings(recorded.env);
  loadCatalogue({ dir: config.schemasDir === IMAGE_SCHEMAS_DIR ? `${root}schemas` : config.schemasDir, env: recorded.env });
  return { config, read: recorded.read };
}

/** A model class of kubernetes-models for the object's apiVersion and kind. */
async function modelFor(object: RenderedObject): Promise<{ new (data: unknown): { validate(): void } }> {
  // The core group's objects say `v1`; every other group `<group>/<version>`: both are kubernetes-models' module paths.
  const module = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, unknown>;
  const model = module[object.kind];
  if (typeof model !== 'function') throw new Error(`kubernetes-models has no schema for ${object.apiVersion} ${object.kind}`);
  return model as { new (data: unknown): { validate(): void } };
}

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  let objects: Rendered;
  let deployment: IDeployment;
  let container: IContainer;
  beforeAll(async () => {
    objects = await renderKustomization(`${root}deploy/k8s/overlays/${overlay}`);
    deployment = one<IDeployment>(objects, 'Deployment', 'isthmus-gateway');
    container = gatewayContainer(deployment);
  });

  it('renders objects that are each valid against the Kubernetes API schema', async () => {
    expect(objects.length).toBeGreaterThan(8);
    for (const object of objects) {
      const Model = await modelFor(object);
      expect(() => new Model(object).validate(), `${object.kind}/${object.metadata.name}`).not.toThrow();
    }
    // The check is live: the same Deployment with a wrong type is refused.
    const Model = await modelFor(deployment as unknown as RenderedObject);
    expect(() => new Model({ ...deployment, spec: { ...deployment.spec, replicas: 'three' } }).validate()).toThrow(/replicas/);
  });

  it('runs every pod as non-root on a read-only root file system, without privileges or a service account token', () => {
    const templates = podTemplates(objects);
    expect(templates.map((pod) => pod.owner)).toEqual(expect.arrayContaining(['Deployment/isthmus-gateway', 'Job/isthmus-migrate']));
    for (const { owner, template } of templates) {
      const pod = template.spec!;
      expect(pod.securityContext?.runAsNonRoot, owner).toBe(true);
      expect(pod.securityContext?.runAsUser, owner).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type, owner).toBe('RuntimeDefault');
      expect(pod.automountServiceAccountToken, owner).toBe(false);
      for (const each of pod.containers) {
        expect(each.securityContext, `${owner} ${each.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        // With a read-only root, whatever is written goes to a volume: an emptyDir, or a claimed volume for a database.
        for (const mount of each.volumeMounts ?? []) {
          const volume = pod.volumes?.find((candidate) => candidate.name === mount.name);
          const claimed = (objects.find((object) => `${object.kind}/${object.metadata.name}` === owner) as IStatefulSet | undefined)?.spec?.volumeClaimTemplates?.some((claim) => claim.metadata?.name === mount.name);
          expect(volume?.emptyDir !== undefined || claimed || mount.readOnly === true, `${owner} ${mount.mountPath} is writable but neither an emptyDir nor a claimed volume`).toBe(true);
        }
      }
    }
    const account = one<IServiceAccount>(objects, 'ServiceAccount', deployment.spec!.template.spec!.serviceAccountName!);
    expect(account.automountServiceAccountToken).toBe(false);
  });

  it('mounts the key Secret read-only where ISTHMUS_KEYS_DIR points, and /tmp as an emptyDir', () => {
    const { config } = readAsGateway(gatewayEnvironment(objects, container));
    const keysMount = container.volumeMounts!.find((mount) => mount.mountPath === config.keysDir);
    expect(keysMount?.readOnly).toBe(true);
    const keysVolume = deployment.spec!.template.spec!.volumes!.find((volume) => volume.name === keysMount!.name);
    expect(keysVolume?.secret?.secretName).toBe('isthmus-keys');
    // Readable to the gateway's group (fsGroup), and to no one else: the key files refuse any wider mode.
    expect((keysVolume!.secret!.defaultMode! & 0o077).toString(8)).toBe('40');
    expect(deployment.spec!.template.spec!.securityContext?.fsGroup).toBe(deployment.spec!.template.spec!.securityContext?.runAsGroup);
    const tmp = container.volumeMounts!.find((mount) => mount.mountPath === '/tmp');
    expect(deployment.spec!.template.spec!.volumes!.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('probes the gateway on its own port: readiness /readyz, liveness and start-up /healthz; the Service sends there', () => {
    const { config } = readAsGateway(gatewayEnvironment(objects, container));
    const http = container.ports!.find((port) => port.name === 'http')!;
    expect(http.containerPort).toBe(config.port);
    expect(config.host).toBe('0.0.0.0');
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(container.startupProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    const service = one<IService>(objects, 'Service', 'isthmus-gateway');
    expect(service.spec!.ports!.map((port) => port.targetPort)).toEqual(['http']);
    expect(selects(service.spec!.selector, deployment.spec!.template.metadata!.labels)).toBe(true);
    expect(selects(deployment.spec!.selector.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
  });

  it('gives a stopping pod longer than the gateway can take to drain and write its final checkpoint', () => {
    const { config } = readAsGateway(gatewayEnvironment(objects, container));
    const env = gatewayEnvironment(objects, container);
    const preStopMs = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1_000;
    // The Service must stop sending before the drain starts.
    expect(preStopMs).toBeGreaterThanOrEqual(3_000);
    const longest =
      preStopMs +
      config.shutdownTimeoutMs +
      (config.witnesses.length > 0 ? DEFAULT_WITNESS_CLOSE_WAIT_MS : 0) +
      (readTimestampSettings(env) ? DEFAULT_STAMPER_CLOSE_WAIT_MS : 0) +
      (config.tracing?.exportTimeoutMs ?? 0);
    expect(config.shutdownTimeoutMs).toBe(Number(env.ISTHMUS_SHUTDOWN_TIMEOUT_MS ?? DEFAULT_SHUTDOWN_TIMEOUT_MS));
    expect(deployment.spec!.template.spec!.terminationGracePeriodSeconds! * 1_000).toBeGreaterThan(longest);
  });

  it('sets only variables the gateway reads, and the gateway accepts them all', () => {
    const env = gatewayEnvironment(objects, container);
    const { read } = readAsGateway(env);
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
    // The gateway's store is PostgreSQL: the embedded one serves a single process, never replicas.
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\//);
    // The owner's login never reaches the gateway's pods: only the migration Job's.
    expect(env[MIGRATION_URL_VARIABLE]).toBeUndefined();
    const gatewayPod = JSON.stringify(deployment.spec!.template);
    expect(gatewayPod).not.toContain('isthmus-database-owner');
    const job = one<IJob>(objects, 'Job', 'isthmus-migrate');
    const migrate = job.spec!.template.spec!.containers[0]!;
    expect(migrate.command).toEqual(['/nodejs/bin/node', 'deploy/migrate-store.ts']);
    expect(migrate.env).toEqual([{ name: MIGRATION_URL_VARIABLE, valueFrom: { secretKeyRef: { name: 'isthmus-database-owner', key: 'url' } } }]);
    expect(migrate.image).toBe(container.image);
  });

  it('denies the network by default, and allows no peer wholesale', () => {
    const policies = ofKind<INetworkPolicy>(objects, 'NetworkPolicy');
    for (const { owner, template } of podTemplates(objects)) {
      const labels = template.metadata?.labels;
      const covering = policies.filter((policy) => selects(policy.spec!.podSelector?.matchLabels, labels));
      expect(covering.some((policy) => policy.spec!.policyTypes?.includes('Ingress')), `${owner}: no policy limits its ingress`).toBe(true);
      expect(covering.some((policy) => policy.spec!.policyTypes?.includes('Egress')), `${owner}: no policy limits its egress`).toBe(true);
    }
    const wholesale = (peer: INetworkPolicyPeer) =>
      peer.ipBlock?.cidr === '0.0.0.0/0' || peer.ipBlock?.cidr === '::/0' || (peer.namespaceSelector !== undefined && Object.keys(peer.namespaceSelector.matchLabels ?? {}).length === 0 && peer.podSelector === undefined);
    for (const policy of policies) {
      expect(policy.spec!.podSelector?.matchExpressions, policy.metadata!.name).toBeUndefined();
      for (const rule of policy.spec!.ingress ?? []) {
        expect(rule.from?.length, `${policy.metadata!.name}: an ingress rule without "from" admits everyone`).toBeGreaterThan(0);
        expect(rule.from!.some(wholesale), policy.metadata!.name).toBe(false);
      }
      for (const rule of policy.spec!.egress ?? []) {
        expect(rule.to?.length, `${policy.metadata!.name}: an egress rule without "to" reaches everything`).toBeGreaterThan(0);
        expect(rule.ports?.length, `${policy.metadata!.name}: an egress rule without ports reaches every port`).toBeGreaterThan(0);
        expect(rule.to!.some(wholesale), policy.metadata!.name).toBe(false);
      }
    }
    // The gateway reaches DNS and its PostgreSQL; it is reached on its http port only; the Job is reached by nothing.
    const gatewayLabels = deployment.spec!.template.metadata!.labels;
    const gatewayPolicies = policies.filter((policy) => selects(policy.spec!.podSelector?.matchLabels, gatewayLabels));
    const egressPorts = gatewayPolicies.flatMap((policy) => (policy.spec!.egress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => port.port)));
    expect(egressPorts).toEqual(expect.arrayContaining([53, 5432]));
    const ingressPorts = gatewayPolicies.flatMap((policy) => (policy.spec!.ingress ?? []).flatMap((rule) => (rule.ports ?? []).map((port) => port.port)));
    expect(new Set(ingressPorts)).toEqual(new Set(['http']));
    const jobLabels = one<IJob>(objects, 'Job', 'isthmus-migrate').spec!.template.metadata!.labels;
    expect(policies.filter((policy) => selects(policy.spec!.podSelector?.matchLabels, jobLabels)).flatMap((policy) => policy.spec!.ingress ?? [])).toEqual([]);
  });

  it('scales and keeps serving through a drain with the Deployment\'s own pods, or says why not', () => {
    const replicas = deployment.spec!.replicas!;
    const budgets = ofKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    const autoscalers = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    if (replicas === 1) {
      // One replica: an autoscaler would add replicas, a budget could only block the drain.
      expect(budgets).toEqual([]);
      expect(autoscalers).toEqual([]);
      return;
    }
    expect(budgets).toHaveLength(1);
    const budget = budgets[0]!;
    expect(selects(budget.spec!.selector!.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
    expect(budget.spec!.minAvailable).toBeGreaterThanOrEqual(1);
    expect(budget.spec!.minAvailable).toBeLessThan(replicas);
    expect(autoscalers).toHaveLength(1);
    const autoscaler = autoscalers[0]!;
    expect(autoscaler.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    expect(autoscaler.spec!.minReplicas).toBe(replicas);
    expect(autoscaler.spec!.minReplicas!).toBeGreaterThan(budget.spec!.minAvailable as number);
    expect(autoscaler.spec!.metrics?.map((metric) => metric.resource?.name)).toEqual(['cpu']);
    // The HPA's utilization is of the request: without one it cannot scale.
    expect(container.resources?.requests?.cpu).toBeDefined();
    expect(container.resources?.limits?.memory).toBeDefined();
    expect(deployment.spec!.template.spec!.topologySpreadConstraints?.map((constraint) => constraint.topologyKey)).toContain('kubernetes.io/hostname');
  });

  it('holds no secret: no Secret object, no credentials or private keys in any value, every Secret referenced is documented', () => {
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);
    const text = JSON.stringify(objects);
    expect(text).not.toMatch(/:\/\/[^/@"\s]+:[^/@"\s]+@/);
    expect(text).not.toMatch(/PRIVATE KEY|"d":"/);
    const referenced = new Set(
      podTemplates(objects).flatMap(({ template }) => [
        ...(template.spec!.volumes ?? []).flatMap((volume) => (volume.secret?.secretName ? [volume.secret.secretName] : [])),
        ...template.spec!.containers.flatMap((each) => (each.env ?? []).flatMap((variable) => (variable.valueFrom?.secretKeyRef?.name ? [variable.valueFrom.secretKeyRef.name] : []))),
      ]),
    );
    const readme = readFileSync(`${root}deploy/README.md`, 'utf8');
    expect(referenced.size).toBeGreaterThanOrEqual(4);
    for (const name of referenced) expect(readme, `deploy/README.md says how to create the Secret ${name}`).toMatch(new RegExp(`kubectl (-n \\S+ )?create secret generic ${name} `));
  });

  if (overlay === 'demo') {
    it('runs one replica on a PostgreSQL of its own', () => {
      expect(deployment.spec!.replicas).toBe(1);
      const postgres = ofKind<IStatefulSet>(objects, 'StatefulSet');
      expect(postgres.map((set) => set.spec!.replicas)).toEqual([1]);
      const service = ofKind<IService>(objects, 'Service').find((each) => selects(each.spec!.selector, postgres[0]!.spec!.template.metadata!.labels));
      expect(service?.spec?.ports?.map((port) => port.port)).toEqual([5432]);
    });
  }

  if (overlay === 'production') {
    it('is in production mode with witnesses, three or more replicas, and every image pinned by digest', () => {
      const { config } = readAsGateway(gatewayEnvironment(objects, container));
      expect(config.production).toBe(true);
      expect(config.witnesses.length).toBeGreaterThanOrEqual(1);
      expect(config.devIssuer).toBe(false);
      expect(config.issuers.length).toBeGreaterThanOrEqual(1);
      expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(3);
      for (const { owner, template } of podTemplates(objects)) {
        for (const each of template.spec!.containers) expect(each.image, owner).toMatch(/@sha256:[0-9a-f]{64}$/);
      }
    });
  }
});

describe('the probes\' paths on a running gateway', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway(loadConfig({ PORT: '0', HOST: '127.0.0.1', ISTHMUS_DATA_DIR: ':memory:', LOG_LEVEL: 'silent', ISTHMUS_SCHEMAS_DIR: `${root}schemas` }));
  });
  afterAll(() => gateway?.close());

  it('answer: /healthz and /readyz 200, /metrics in the Prometheus text format', async () => {
    const objects = await renderKustomization(`${root}deploy/k8s/overlays/production`);
    const container = gatewayContainer(one<IDeployment>(objects, 'Deployment', 'isthmus-gateway'));
    const paths = [container.startupProbe, container.livenessProbe, container.readinessProbe].map((probe) => probe!.httpGet!.path!);
    for (const path of new Set(paths)) expect((await fetch(`${gateway.url}${path}`)).status, path).toBe(200);
    const metrics = await fetch(`${gateway.url}${one<IDeployment>(objects, 'Deployment', 'isthmus-gateway').spec!.template.metadata!.annotations!['prometheus.io/path']}`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});
