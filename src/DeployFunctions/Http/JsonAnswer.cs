using Microsoft.AspNetCore.Mvc;

namespace DeployFunctions.Http;

/// <summary>
/// An HTTP answer with a JSON body, written straight to the response without MVC's formatters, so it behaves the
/// same under the Functions host, Kestrel and a bare <c>DefaultHttpContext</c> in tests.
/// </summary>
public abstract record JsonAnswer(int StatusCode) : IActionResult
{
    public abstract byte[] ToJson();

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        var body = ToJson();
        response.StatusCode = StatusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.HttpContext.RequestAborted);
    }
}
