/**
 * The status-bar item of the landscape.queue setting: how many
 * `landscape worker` processes are connected to the queue, refreshed every
 * 15 s, or why the queue cannot be reached. Hidden while the setting is
 * empty; the queue code is loaded only once it is set, so activation does
 * not pay for it.
 */
import * as vscode from 'vscode';
import type { Log } from './log';
import { queueSetting } from './settings';
import type { QueueClient } from '../queue/client';

const POLL_MS = 15_000;

export class QueueStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('landscape.queue', vscode.StatusBarAlignment.Left, 10);
  private timer: ReturnType<typeof setInterval> | undefined;
  private client: QueueClient | undefined;
  private url: string | undefined;

  constructor(private readonly log: Log) {
    this.item.name = 'Landscape queue';
    this.item.command = { title: 'Queue settings', command: 'workbench.action.openSettings', arguments: ['landscape.queue'] };
    this.refresh();
  }

  /** Follows the setting: stops polling the old queue, starts on the new one. */
  refresh(): void {
    const url = queueSetting();
    if (url === this.url) return;
    this.stop();
    this.url = url;
    if (!url) return this.item.hide();
    void this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    const url = this.url;
    if (!url) return;
    try {
      const { QueueClient } = await import('../queue/client');
      const { parseQueueUrl, describeQueue } = await import('../queue/redisUrl');
      const address = parseQueueUrl(url);
      this.client ??= await QueueClient.open(address);
      const n = await this.client.workerCount();
      this.item.text = `$(server-process) ${n} worker${n === 1 ? '' : 's'}`;
      this.item.tooltip = `Landscape queue ${describeQueue(address)}: ${n} worker${n === 1 ? '' : 's'} connected. Compute Barriers sends its pairs there.`;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.item.text = '$(warning) queue';
      this.item.tooltip = `Landscape queue: ${msg}`;
      this.log.warn(`queue: ${msg}`);
      this.closeClient();
    }
    if (this.url === url) this.item.show();
  }

  private closeClient(): void {
    void this.client?.close().catch(() => undefined);
    this.client = undefined;
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.closeClient();
  }

  dispose(): void {
    this.stop();
    this.item.dispose();
  }
}
