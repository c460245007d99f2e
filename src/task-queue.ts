/** The task queue of workers and commands when AMPLITUDE_SYNC_TASK_QUEUE does not name another. */
export const DEFAULT_TASK_QUEUE = 'amplitude-sync';
