export * from './study';
export { renderReport, summaryLines, escapeHtml } from './report';
