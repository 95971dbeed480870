// Projects: creation, region changes, and their JSON representation (`HTCProject`).
import type { z } from "zod";
import type { ProjectRow } from "../db/repositories/projects.js";
import type { Principal } from "./principal.js";
import { invalidField, notFound } from "../errors.js";
import type { createProjectBody, regionSettingsSchema } from "../schemas/projects.js";
import type { Sent } from "../contract-types.js";
import { DEFAULT_REGION, isEnabledRegion, type Region } from "./catalog.js";
import { newUuid } from "./ids.js";
import { isoTime } from "../clock.js";
import { immutable } from "../immutable.js";
import type { Core } from "../core.js";
import { projectFolderPath } from "../storage/layout.js";

type RegionSettingsInput = z.output<typeof regionSettingsSchema>;
/** A region setting as stored and served: both regions named. */
interface RegionSettings {
  computeSettings: { computeRegion: Region };
  storageSettings: { storageRegion: Region };
}

/** The project of the caller's workspace, or 404. */
export function requireProject(s: Core, principal: Principal, projectId: string): ProjectRow {
  const project = s.repos.projects.get(projectId, principal.workspace.id);
  if (!project) throw notFound(`Project ${projectId} does not exist.`);
  return project;
}

function checkRegions(regions: readonly string[], field: string): void {
  regions.forEach((region, i) => {
    if (!isEnabledRegion(region)) throw invalidField(`${field}[${i}]`, `region ${region} is not enabled for the workspace`);
  });
}

function defaultSettings(region: Region): RegionSettings {
  return { computeSettings: { computeRegion: region }, storageSettings: { storageRegion: region } };
}

/**
 * One settings entry per region: the caller's where given, otherwise "compute and store in that region". A
 * given entry must name its compute region (the schema, like upstream's, does not require it); without a
 * storage region it stores where it computes.
 */
function settingsFor(regions: readonly Region[], given: readonly RegionSettingsInput[]): RegionSettings[] {
  const settings = given.map((entry, i): RegionSettings => {
    const computeRegion = entry.computeSettings.computeRegion;
    if (computeRegion === undefined) {
      throw invalidField(
        `regionSettings[${i}].computeSettings.computeRegion`,
        "is required: a region setting names the region it computes in",
      );
    }
    if (!regions.includes(computeRegion)) {
      throw invalidField(`regionSettings[${i}].computeSettings.computeRegion`, "must be one of the project's regions");
    }
    const storageRegion = entry.storageSettings.storageRegion ?? computeRegion;
    if (!isEnabledRegion(storageRegion)) {
      throw invalidField(`regionSettings[${i}].storageSettings.storageRegion`, "region is not enabled for the workspace");
    }
    return { computeSettings: { computeRegion }, storageSettings: { storageRegion } };
  });
  return regions.map((r) => settings.find((s) => s.computeSettings.computeRegion === r) ?? defaultSettings(r));
}

export function createProject(s: Core, principal: Principal, input: z.output<typeof createProjectBody>): ProjectRow {
  // A region listed twice counts once (upstream does not ask for distinct items).
  const regions = input.regions?.length ? [...new Set(input.regions)] : [DEFAULT_REGION];
  checkRegions(regions, "regions");
  const settings = settingsFor(regions, input.regionSettings ?? []);
  const id = newUuid();
  s.repos.projects.insert({
    id,
    workspace_id: principal.workspace.id,
    name: input.projectName,
    description: input.projectDescription,
    created_by: principal.user.id,
    regions: JSON.stringify(regions),
    region_settings: JSON.stringify(settings),
    created_at: s.clock.now(),
  });
  return s.repos.projects.get(id, principal.workspace.id)!;
}

/** Adds regions (never removes any). */
export function addRegions(s: Core, project: ProjectRow, regions: readonly Region[]): ProjectRow {
  checkRegions(regions, "regions");
  const current = regionsOf(project);
  const added = [...new Set(regions)].filter((r) => !current.includes(r));
  if (added.length === 0) return project;
  const all = [...current, ...added];
  const settings = [...(JSON.parse(project.region_settings) as RegionSettings[]), ...added.map(defaultSettings)];
  s.repos.projects.updateRegions(project.id, all, settings);
  return s.repos.projects.get(project.id, project.workspace_id)!;
}

/** The project's regions (checked when stored), the first one its default. */
export function regionsOf(project: ProjectRow): Region[] {
  return JSON.parse(project.regions) as Region[];
}

type ProjectView = Sent<"HTCProject">;

/** The view last made of a project row, with what else it was made from. */
interface MadeView {
  organizationCode: string | null;
  repositories: readonly string[];
  registryHost: string;
  view: ProjectView;
}

/**
 * Views of frozen project rows (the repository keeps them until projects or their repositories change): reads of
 * a project answer the same immutable view, serialised once, until its row is read again.
 */
const views = new WeakMap<ProjectRow, MadeView>();

export function projectView(s: Core, project: ProjectRow, organizationCode: string | null): ProjectView {
  const repositories = s.repos.projects.repositories(project.id);
  const registryHost = s.urls.registryHost;
  const made = views.get(project);
  if (made && made.organizationCode === organizationCode && made.repositories === repositories && made.registryHost === registryHost) {
    return made.view;
  }
  const view: ProjectView = {
    projectId: project.id,
    projectName: project.name,
    projectDescription: project.description,
    createdBy: project.created_by,
    workspaceId: project.workspace_id,
    organizationCode,
    createdAt: isoTime(project.created_at),
    containerRegistry: `${registryHost}/rescale/${project.id}/`,
    repositories: [...repositories],
    regions: regionsOf(project),
    regionSettings: JSON.parse(project.region_settings) as RegionSettings[],
    projectFolderPath: projectFolderPath(project.id),
  };
  // A row that may still change (a page of the list) cannot stand for its view.
  if (!Object.isFrozen(project)) return view;
  views.set(project, { organizationCode, repositories, registryHost, view: immutable(view) });
  return view;
}
