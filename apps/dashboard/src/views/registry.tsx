// A project's container registry: its repositories, the images pushed to them and each image's status
// (PENDING while the registry "replicates" it, READY once jobs can use it).
import { Link } from "wouter-preact";
import { htc, ok } from "../api/connection.js";
import { Empty, ErrorBox, Loading, PageHeader, Section } from "../components/ui.js";
import { useInterval, useLoad } from "../lib/hooks.js";

export function RegistryView({ params }: { params: { ws: string; projectId: string } }) {
  const { ws, projectId } = params;
  const project = useLoad(
    async () => ok((await htc(ws)).api.GET("/htc/projects/{projectId}", { params: { path: { projectId } } })),
    [ws, projectId],
  );
  const images = useLoad(async () => {
    const client = await htc(ws);
    const listed = await ok(client.api.GET("/htc/projects/{projectId}/container-registry/images", { params: { path: { projectId } } }));
    const statuses = await Promise.all(
      (listed.images ?? []).map(async (imageName) => {
        const answer = await client.api.GET("/htc/projects/{projectId}/container-registry/images/{imageName}", {
          params: { path: { projectId, imageName } },
        });
        return { imageName, status: answer.data?.status ?? `error ${answer.response.status}` };
      }),
    );
    return { registry: listed.containerRegistry, images: statuses };
  }, [ws, projectId]);
  useInterval(images.reload, 5000);

  return (
    <>
      <PageHeader
        crumbs={[
          { label: "Workspaces", href: "/" },
          { label: "Project", href: `/workspaces/${ws}/projects/${projectId}` },
          { label: "Registry" },
        ]}
        title="Registry"
      />
      <ErrorBox error={project.error ?? images.error} />
      <Section title="Repositories">
        {!project.data && !project.error && <Loading />}
        {project.data && (project.data.repositories ?? []).length === 0 && (
          <Empty>No repositories. Create one with POST …/container-registry/repo/&lt;name&gt; (`htc image repo create`).</Empty>
        )}
        <ul class="plain">
          {(project.data?.repositories ?? []).map((r) => (
            <li key={r}>
              <code>{r}</code>
            </li>
          ))}
        </ul>
        {images.data && (
          <p class="muted">
            Registry <code>{images.data.registry}</code>
          </p>
        )}
      </Section>
      <Section title="Images">
        {images.data && images.data.images.length === 0 && <Empty>No images pushed yet.</Empty>}
        {images.data && images.data.images.length > 0 && (
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Image</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {images.data.images.map((i) => (
                <tr key={i.imageName}>
                  <td>
                    <code>{i.imageName}</code>
                  </td>
                  <td>
                    <span class={`lifecycle ${i.status === "READY" ? "ACTIVE" : "ARCHIVED"}`}>{i.status}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Link href={`/workspaces/${ws}/projects/${projectId}`}>Back to the project</Link>
    </>
  );
}
