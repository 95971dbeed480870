// Workspaces and their projects: regions, vCPU limits and storage use at a glance.
import { Link } from "wouter-preact";
import { admin, htc, ok } from "../api/connection.js";
import { Empty, ErrorBox, Loading, PageHeader, Section, ShortId } from "../components/ui.js";
import { bytes, count, time } from "../lib/format.js";
import { useLoad } from "../lib/hooks.js";

export function Home() {
  const workspaces = useLoad(() => ok(admin.api.GET("/workspaces")), []);
  return (
    <>
      <PageHeader title="Workspaces and projects" />
      <ErrorBox error={workspaces.error} />
      {!workspaces.data && !workspaces.error && <Loading />}
      {workspaces.data?.map((w) => (
        <Workspace key={w.id} id={w.id} name={w.name} vcpus={w.vCPUs} createdAt={w.createdAt} />
      ))}
    </>
  );
}

function Workspace({ id, name, vcpus, createdAt }: { id: string; name: string; vcpus: number | null; createdAt: string }) {
  const projects = useLoad(async () => {
    const client = await htc(id);
    const page = await ok(client.api.GET("/htc/projects", { params: { query: { pageSize: 200 } } }));
    return page.items;
  }, [id]);
  const usage = useLoad(() => ok(admin.api.GET("/storage/usage")), []);
  const used = new Map((usage.data ?? []).map((u) => [u.projectId, u.total]));
  return (
    <Section
      title={name}
      actions={
        <span class="muted">
          <ShortId id={id} /> · vCPU limit {vcpus === null ? "none" : count(vcpus)} · since {time(createdAt)}
        </span>
      }
    >
      <ErrorBox error={projects.error} />
      {projects.data && projects.data.length === 0 && (
        <Empty>No projects yet. Create one with the API (POST /htc/projects) or `htc project create`.</Empty>
      )}
      {projects.data && projects.data.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Regions</th>
              <th scope="col">Created</th>
              <th scope="col" class="num">
                Storage
              </th>
              <th scope="col">Registry</th>
            </tr>
          </thead>
          <tbody>
            {projects.data.map((p) => {
              const u = p.projectId ? used.get(p.projectId) : undefined;
              return (
                <tr key={p.projectId}>
                  <td>
                    <Link href={`/workspaces/${id}/projects/${p.projectId}`}>{p.projectName}</Link>
                    <div class="muted small">
                      <ShortId id={p.projectId} />
                    </div>
                  </td>
                  <td>{(p.regions ?? []).join(", ")}</td>
                  <td>{time(p.createdAt)}</td>
                  <td class="num">{u ? `${bytes(u.bytes)} in ${count(u.objects)}` : "empty"}</td>
                  <td>
                    <Link href={`/workspaces/${id}/projects/${p.projectId}/registry`}>{p.repositories?.length ?? 0} repositories</Link>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {!projects.data && !projects.error && <Loading />}
    </Section>
  );
}
