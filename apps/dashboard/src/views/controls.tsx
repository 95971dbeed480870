// The emulator's test controls: its clock, the scheduler (pause, resume, step), fault rules and their injection
// log, reset, and snapshots (export and import).
import type { FaultRuleCreate, StepRequest } from "@htcemu/client/admin";
import { useState } from "preact/hooks";
import { admin, ok } from "../api/connection.js";
import { ActionButton, Empty, ErrorBox, Loading, PageHeader, Section } from "../components/ui.js";
import { saveAnswer } from "../lib/download.js";
import { time } from "../lib/format.js";
import { useInterval, useLoad } from "../lib/hooks.js";

export function ControlsView() {
  return (
    <>
      <PageHeader title="Emulator controls" />
      <div class="grid2">
        <Clock />
        <Scheduler />
      </div>
      <Faults />
      <div class="grid2">
        <Snapshots />
        <Reset />
      </div>
    </>
  );
}

function Clock() {
  const clock = useLoad(() => admin.clock(), []);
  useInterval(clock.reload, 2000);
  const [hours, setHours] = useState("1");
  const [speed, setSpeed] = useState("1");
  return (
    <Section title="Clock">
      <ErrorBox error={clock.error} />
      {clock.data ? (
        <p>
          Emulator time <b data-testid="clock-now">{time(clock.data.now)}</b> · speed <b>{clock.data.speed}×</b>
        </p>
      ) : (
        <Loading />
      )}
      <div class="filters">
        <label>
          Advance by (hours)
          <input type="number" min="0" step="any" value={hours} onInput={(e) => setHours((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <ActionButton action={() => admin.advanceClock({ hours: Number(hours) })} onDone={clock.reload}>
          Advance
        </ActionButton>
        <label>
          Speed
          <input type="number" min="0" step="any" value={speed} onInput={(e) => setSpeed((e.currentTarget as HTMLInputElement).value)} />
        </label>
        <ActionButton action={() => admin.setSpeed(Number(speed))} onDone={clock.reload}>
          Set speed
        </ActionButton>
      </div>
    </Section>
  );
}

function Scheduler() {
  const state = useLoad(() => admin.scheduler(), []);
  useInterval(state.reload, 2000);
  const [step, setStep] = useState<StepRequest>({ projectId: "", taskId: "" });
  return (
    <Section title="Scheduler">
      <ErrorBox error={state.error} />
      {state.data ? (
        <p data-testid="scheduler-state">
          {state.data.paused ? "Paused" : "Running"} · {state.data.executing} attempts starting or running · {state.data.held} held by fault
          rules · {state.data.stepped} stepped
        </p>
      ) : (
        <Loading />
      )}
      <div class="filters">
        {state.data?.paused ? (
          <ActionButton kind="primary" action={() => admin.resume()} onDone={state.reload}>
            Resume
          </ActionButton>
        ) : (
          <ActionButton action={() => admin.pause()} onDone={state.reload}>
            Pause
          </ActionButton>
        )}
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Project id
          <input
            value={step.projectId}
            onInput={(e) => setStep({ ...step, projectId: (e.currentTarget as HTMLInputElement).value.trim() })}
          />
        </label>
        <label>
          Task id
          <input value={step.taskId} onInput={(e) => setStep({ ...step, taskId: (e.currentTarget as HTMLInputElement).value.trim() })} />
        </label>
        <label>
          Group
          <input
            value={step.group ?? ""}
            onInput={(e) => {
              const group = (e.currentTarget as HTMLInputElement).value.trim();
              const { group: _, ...rest } = step;
              setStep(group ? { ...rest, group } : rest);
            }}
          />
        </label>
        <ActionButton action={() => admin.step(step)} onDone={state.reload}>
          Step one status
        </ActionButton>
      </form>
    </Section>
  );
}

const EXAMPLE_RULE = JSON.stringify({ match: { operations: ["getJobs"] }, times: 3, api: { status: 429, retryAfterSeconds: 1 } }, null, 2);

function Faults() {
  const rules = useLoad(() => admin.listFaults(), []);
  const log = useLoad(() => admin.faultLog({ limit: 50 }), []);
  useInterval(() => {
    rules.reload();
    log.reload();
  }, 3000);
  const [text, setText] = useState(EXAMPLE_RULE);
  const reload = () => {
    rules.reload();
    log.reload();
  };
  const add = async () => {
    let rule: FaultRuleCreate;
    try {
      rule = JSON.parse(text) as FaultRuleCreate;
    } catch (e) {
      throw new Error(`The rule is not valid JSON: ${(e as Error).message}`);
    }
    return admin.addFault(rule);
  };
  return (
    <Section
      title="Fault rules"
      actions={
        <ActionButton kind="danger" confirm="Remove every fault rule?" action={() => admin.clearFaults()} onDone={reload}>
          Remove all
        </ActionButton>
      }
    >
      <ErrorBox error={rules.error} />
      {rules.data && rules.data.length === 0 && <Empty>No fault rules.</Empty>}
      {rules.data && rules.data.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Rule</th>
              <th scope="col">Matches</th>
              <th scope="col">Fault</th>
              <th scope="col" class="num">
                Matched
              </th>
              <th scope="col" class="num">
                Injected
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rules.data.map((r) => (
              <tr key={r.id}>
                <td>
                  <code>{r.id}</code>
                  {r.exhausted && <span class="muted"> (exhausted)</span>}
                </td>
                <td>
                  <code>{JSON.stringify(r.match)}</code>
                </td>
                <td>
                  <code>{JSON.stringify(r.api ?? r.job)}</code>
                </td>
                <td class="num">{r.matched}</td>
                <td class="num">{r.injected}</td>
                <td class="row-actions">
                  <ActionButton action={() => admin.removeFault(r.id)} onDone={reload} label={`Remove rule ${r.id}`}>
                    Remove
                  </ActionButton>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <form class="rule-form" onSubmit={(e) => e.preventDefault()}>
        <label>
          New rule (JSON, as POST /_emulator/v1/faults takes it)
          <textarea rows={6} value={text} onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} spellcheck={false} />
        </label>
        <ActionButton kind="primary" action={add} onDone={reload}>
          Add rule
        </ActionButton>
      </form>
      <h3>Injection log</h3>
      <ErrorBox error={log.error} />
      {log.data && log.data.items.length === 0 && <Empty>No fault injected yet.</Empty>}
      {log.data && log.data.items.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">At</th>
              <th scope="col">Rule</th>
              <th scope="col">Kind</th>
              <th scope="col">Where</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {[...log.data.items].reverse().map((i) => (
              <tr key={i.seq}>
                <td>{i.seq}</td>
                <td>{time(i.at)}</td>
                <td>
                  <code>{i.ruleId}</code>
                </td>
                <td>{i.kind}</td>
                <td>{i.operation ?? i.jobId ?? "—"}</td>
                <td>{i.detail}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Snapshots() {
  const [file, setFile] = useState<File | undefined>(undefined);
  const [summary, setSummary] = useState<string | undefined>(undefined);
  const exportIt = async () => {
    const response = await fetch(`${admin.baseUrl}/snapshot`, { headers: { "X-HTC-Emulator-Client": "dashboard" } });
    if (!response.ok) await ok(Promise.resolve({ error: await response.json().catch(() => undefined), response }));
    await saveAnswer(response, "htc-emulator.snapshot");
  };
  return (
    <Section title="Snapshots">
      <p class="muted">The whole state as one file: identities, projects, tasks, jobs with their logs, stored objects.</p>
      <div class="filters">
        <ActionButton action={exportIt}>Export snapshot</ActionButton>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Snapshot to import
          <input
            type="file"
            accept=".snapshot,.tar.gz,application/gzip"
            onChange={(e) => setFile((e.currentTarget as HTMLInputElement).files?.[0])}
          />
        </label>
        {file && (
          <ActionButton
            kind="danger"
            confirm={`Replace the emulator's whole state with ${file.name}?`}
            action={async () => {
              const result = await admin.importSnapshot(file);
              setSummary(`${result.projects} projects, ${result.tasks} tasks, ${result.jobs} jobs, ${result.objects} objects`);
            }}
          >
            Import {file.name}
          </ActionButton>
        )}
      </form>
      {summary && <p role="status">Imported: {summary}.</p>}
    </Section>
  );
}

function Reset() {
  const [result, setResult] = useState<string | undefined>(undefined);
  return (
    <Section title="Reset">
      <p class="muted">
        Removes everything but the default user, its workspace and keys. The clock, the scheduler's pause and the fault rules stay.
      </p>
      <ActionButton
        kind="danger"
        confirm="Reset the emulator's whole state?"
        action={async () => {
          const r = await admin.reset();
          setResult(`removed ${r.projects} projects, ${r.tasks} tasks, ${r.jobs} jobs, ${r.objects} objects`);
        }}
      >
        Reset everything
      </ActionButton>
      {result && <p role="status">Reset: {result}.</p>}
    </Section>
  );
}
