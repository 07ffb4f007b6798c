// Uploading a file with its byte progress: fetch cannot report an upload's progress, so this one
// request goes through XMLHttpRequest, with the same Bearer header and the same error handling.

import { endSession } from '../session.ts';
import { ApiError, authHeaders, type Problem, UnreachableError } from './client.ts';

export function uploadWithProgress<T>(
  url: string,
  file: Blob,
  contentType: string,
  onProgress: (sent: number, total: number) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    for (const [name, value] of Object.entries(authHeaders())) request.setRequestHeader(name, value);
    request.setRequestHeader('content-type', contentType);
    request.setRequestHeader('accept', 'application/json');
    request.upload.onprogress = (event) =>
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    request.onerror = () =>
      reject(new UnreachableError('The API server cannot be reached. It may be down or restarting.'));
    request.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        body = undefined;
      }
      if (request.status >= 200 && request.status < 300) {
        resolve(body as T);
        return;
      }
      const problem = body as Problem | undefined;
      if (request.status === 401) endSession('expired');
      reject(
        new ApiError(request.status, problem?.detail ?? `${request.status} ${request.statusText}`, problem),
      );
    };
    request.send(file);
  });
}
