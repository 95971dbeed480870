// An address the dashboard does not know: say so, and offer the way back.
import { Link, useLocation } from "wouter-preact";
import { PageHeader } from "../components/ui.js";

export function NotFound() {
  const [location] = useLocation();
  return (
    <>
      <PageHeader title="Page not found" />
      <div class="card not-found">
        <p>
          The dashboard has no page at <code>{location}</code>.
        </p>
        <p>
          <Link href="/" class="btn primary">
            Back to the workspaces
          </Link>
        </p>
      </div>
    </>
  );
}
