/** Building blocks of the services' hand-written OpenAPI 3.1 documents. */
export type OpenApiJson = Record<string, unknown>;

/** A reference to a schema of the document's components. */
export const schemaRef = (id: string): OpenApiJson => ({ $ref: `#/components/schemas/${id}` });

/** A JSON response with its description. */
export const jsonResponse = (description: string, schema: OpenApiJson): OpenApiJson => ({
  description,
  content: { 'application/json': { schema } },
});

/** The path item of the document itself: public, like any API description. */
export function openApiSelfPath(): OpenApiJson {
  return {
    get: {
      operationId: 'openApi',
      summary: 'This document',
      security: [],
      responses: { '200': { description: 'OpenAPI 3.1' } },
    },
  };
}
