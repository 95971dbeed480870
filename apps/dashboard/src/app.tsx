// The dashboard's frame: navigation, the connection's state (a lost emulator is shown and retried, never a blank
// page), and the routes under /ui/.
import type { ComponentChildren } from "preact";
import { Link, Route, Router, Switch, useLocation } from "wouter-preact";
import { admin, connection, ok, origin } from "./api/connection.js";
import { useLoad } from "./lib/hooks.js";
import { useStore } from "./lib/store.js";
import { ControlsView } from "./views/controls.js";
import { Home } from "./views/home.js";
import { InspectorView } from "./views/inspector.js";
import { JobView } from "./views/job.js";
import { NotFound } from "./views/not-found.js";
import { ProjectView } from "./views/project.js";
import { RegistryView } from "./views/registry.js";
import { StorageView } from "./views/storage.js";
import { TaskView } from "./views/task.js";

function NavLink({ href, children }: { href: string; children: ComponentChildren }) {
  const [location] = useLocation();
  const active = href === "/" ? location === "/" || location.startsWith("/workspaces") : location.startsWith(href);
  return (
    <Link href={href} aria-current={active ? "page" : undefined} class={active ? "active" : ""}>
      {children}
    </Link>
  );
}

function ConnectionBanner() {
  const state = useStore(connection);
  if (state === "online") return null;
  return (
    <div class="banner offline" role="alert">
      Lost the connection to the emulator at {origin}. Retrying every 2 seconds; the page comes back by itself.
    </div>
  );
}

function Shell({ children }: { children: ComponentChildren }) {
  const info = useLoad(() => ok(admin.api.GET("/info")), []);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <Link href="/" class="brand">
          HTC emulator
        </Link>
        <nav aria-label="Sections">
          <NavLink href="/">Workspaces</NavLink>
          <NavLink href="/inspector">Requests</NavLink>
          <NavLink href="/controls">Controls</NavLink>
        </nav>
        <span class="info muted small">
          {info.data ? `${info.data.version} · ${info.data.executor} executor · ${info.data.inMemory ? "in memory" : "on disk"}` : ""}
        </span>
      </header>
      <ConnectionBanner />
      <main id="main">{children}</main>
    </div>
  );
}

export function App() {
  return (
    <Router base="/ui">
      <Shell>
        <Switch>
          <Route path="/" component={Home} />
          <Route path="/workspaces/:ws/projects/:projectId" component={ProjectView} />
          <Route path="/workspaces/:ws/projects/:projectId/storage" component={StorageView} />
          <Route path="/workspaces/:ws/projects/:projectId/registry" component={RegistryView} />
          <Route path="/workspaces/:ws/projects/:projectId/tasks/:taskId" component={TaskView} />
          <Route path="/workspaces/:ws/projects/:projectId/tasks/:taskId/jobs/:jobId" component={JobView} />
          <Route path="/inspector" component={InspectorView} />
          <Route path="/controls" component={ControlsView} />
          <Route component={NotFound} />
        </Switch>
      </Shell>
    </Router>
  );
}
