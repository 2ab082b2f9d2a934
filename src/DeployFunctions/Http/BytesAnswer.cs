using Microsoft.AspNetCore.Mvc;

namespace DeployFunctions.Http;

/// <summary>
/// An HTTP answer of fixed bytes (the board's page and files), written straight to the response without MVC's executors,
/// like <see cref="JsonAnswer"/>.
/// </summary>
public sealed record BytesAnswer(int StatusCode, byte[] Body, string ContentType) : IActionResult
{
    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCode;
        response.ContentType = ContentType;
        response.ContentLength = Body.Length;
        await response.Body.WriteAsync(Body, context.HttpContext.RequestAborted);
    }
}
