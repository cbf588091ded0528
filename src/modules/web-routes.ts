/**
 * The shared route registry: modules that serve pages or a JSON API (accounts, dashboard,
 * sync pages) add a fastify plugin here during their `start`; the web module, started last,
 * mounts every plugin under the add-on's base path (the ingress prefix is applied by the browser:
 * pages use relative URLs only). Modules never import the web module, only this registry.
 */
import type { FastifyPluginAsync } from "fastify";

/** A page shown in the add-on's navigation; `path` is relative to the base, without a leading slash. */
export interface WebPage {
  path: string;
  label: { en: string; fr: string };
}

/** One registered plugin. */
export interface WebPlugin {
  /** The registering module's name, for logs. */
  module: string;
  plugin: FastifyPluginAsync;
  page?: WebPage;
}

/** See the file comment. */
export interface WebRoutes {
  /** Adds a plugin; throws Error when called after the web module mounted the plugins. */
  add(module: string, plugin: FastifyPluginAsync, page?: WebPage): void;
  /** Every plugin added so far, in order; marks the registry closed. */
  take(): readonly WebPlugin[];
  /** The navigation entries, in order. */
  pages(): readonly WebPage[];
}

/** A new, empty, open registry. */
export function createWebRoutes(): WebRoutes {
  const plugins: WebPlugin[] = [];
  let closed = false;
  return {
    add(module, plugin, page) {
      if (closed) throw new Error(`module ${module} added web routes after the web server started; start it before the web module`);
      plugins.push({ module, plugin, ...(page ? { page } : {}) });
    },
    take() {
      closed = true;
      return [...plugins];
    },
    pages() {
      return plugins.flatMap((p) => (p.page ? [p.page] : []));
    },
  };
}
