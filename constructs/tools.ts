// The research tools a workspace runs and what the renderer needs to know about each.
import type { Tool } from '../api/enclave.ts';

/** The port each tool's server listens on inside its image. */
export const TOOL_PORTS: Readonly<Record<Tool, number>> = { jupyterlab: 8888, rstudio: 8787, vscode: 8080 };

/** The home directory of the tool image's unprivileged user (jovyan, rstudio, coder), where the home volume is mounted. */
export const TOOL_HOMES: Readonly<Record<Tool, string>> = { jupyterlab: '/home/jovyan', rstudio: '/home/rstudio', vscode: '/home/coder' };
