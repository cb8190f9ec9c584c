export { compileTemplate, goString, TemplateError } from './template.ts';
export { renderList, tabwrite, type ListFormat } from './format.ts';
