// A project's storage: its shared folder and each task's folder, browsed folder by folder; files download and
// upload through presigned URLs.
import { useState } from "preact/hooks";
import { useSearch } from "wouter-preact";
import { htc, ok } from "../api/connection.js";
import { list, presigned, type Scope, upload } from "../api/storage.js";
import { ActionButton, Empty, ErrorBox, Loading, PageHeader, Section } from "../components/ui.js";
import { saveLink } from "../lib/download.js";
import { bytes, time } from "../lib/format.js";
import { useLoad } from "../lib/hooks.js";

export function StorageView({ params }: { params: { ws: string; projectId: string } }) {
  const { ws, projectId } = params;
  const search = new URLSearchParams(useSearch());
  const [taskId, setTaskId] = useState<string | undefined>(search.get("task") ?? undefined);
  const [prefix, setPrefix] = useState("");
  const scope: Scope = { ws, projectId, taskId };
  const tasks = useLoad(async () => {
    const page = await ok(
      (await htc(ws)).api.GET("/htc/projects/{projectId}/tasks", { params: { path: { projectId }, query: { pageSize: 200 } } }),
    );
    return page.items;
  }, [ws, projectId]);
  const listing = useLoad(() => list(scope, prefix), [ws, projectId, taskId, prefix]);
  const [file, setFile] = useState<File | undefined>(undefined);

  const download = async (path: string) => {
    saveLink(await presigned(scope, path, "GET"), path.split("/").pop() ?? "download");
  };
  const parts = prefix.split("/").filter(Boolean);

  return (
    <>
      <PageHeader
        crumbs={[
          { label: "Workspaces", href: "/" },
          { label: "Project", href: `/workspaces/${ws}/projects/${projectId}` },
          { label: "Storage" },
        ]}
        title="Storage"
      />
      <Section title="Folder">
        <div class="filters">
          <label>
            Storage of
            <select
              value={taskId ?? ""}
              onChange={(e) => {
                const value = (e.currentTarget as HTMLSelectElement).value;
                setTaskId(value || undefined);
                setPrefix("");
              }}
            >
              <option value="">the project (shared folder)</option>
              {tasks.data?.map((t) => (
                <option key={t.taskId} value={t.taskId}>
                  task {t.taskName || t.taskId}
                </option>
              ))}
            </select>
          </label>
        </div>
        <nav class="crumbs path" aria-label="Folder">
          <button type="button" class="link" onClick={() => setPrefix("")}>
            {taskId ? "task folder" : "shared"}
          </button>
          {parts.map((p, i) => (
            <span key={i}>
              {" / "}
              <button type="button" class="link" onClick={() => setPrefix(`${parts.slice(0, i + 1).join("/")}/`)}>
                {p}
              </button>
            </span>
          ))}
        </nav>
        <ErrorBox error={listing.error} />
        {!listing.data && !listing.error && <Loading />}
        {listing.data && listing.data.folders.length + listing.data.files.length === 0 && <Empty>This folder is empty.</Empty>}
        {listing.data && listing.data.folders.length + listing.data.files.length > 0 && (
          <table class="table files">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Modified</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {listing.data.folders.map((f) => (
                <tr key={f}>
                  <td colSpan={4}>
                    <button type="button" class="link" onClick={() => setPrefix(f)}>
                      📁 {f.slice(prefix.length)}
                    </button>
                  </td>
                </tr>
              ))}
              {listing.data.files.map((f) => (
                <tr key={f.path} data-file={f.path}>
                  <td>{f.path.slice(prefix.length)}</td>
                  <td class="num">{bytes(f.size)}</td>
                  <td>{time(f.lastModified)}</td>
                  <td class="row-actions">
                    <ActionButton action={() => download(f.path)} label={`Download ${f.path}`}>
                      Download
                    </ActionButton>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {listing.data?.truncated && <p class="muted">Only the first 1000 entries are shown.</p>}
      </Section>
      <Section title="Upload">
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
          }}
        >
          <label>
            File to upload into this folder
            <input type="file" onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0])} />
          </label>
          {file && (
            <ActionButton kind="primary" action={() => upload(scope, prefix + file.name, file)} onDone={listing.reload}>
              Upload {file.name}
            </ActionButton>
          )}
        </form>
      </Section>
    </>
  );
}
