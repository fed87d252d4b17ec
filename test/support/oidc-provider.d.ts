// oidc-provider ships no types (and @types/oidc-provider is not installed): the tests use a small part of it, typed loosely here.
declare module 'oidc-provider' {
  /** A Koa context of the provider, as much of it as the tests touch. */
  export interface ProviderContext {
    path: string;
    status: number;
    body: unknown;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    oidc: any;
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    use(middleware: (ctx: ProviderContext, next: () => Promise<void>) => Promise<void>): void;
    callback(): (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void;
  }
}
