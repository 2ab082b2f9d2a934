using System.Text.Json;
using Microsoft.AspNetCore.Mvc;

namespace DeployFunctions.History;

/// <summary>A JSON answer (snake_case, like GitHub's API) written without MVC's formatters.</summary>
public sealed class HistoryAnswer(int statusCode, object body) : IActionResult
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public int StatusCode => statusCode;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), Json);

    public async Task ExecuteResultAsync(ActionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var response = context.HttpContext.Response;
        var bytes = ToJson();
        response.StatusCode = statusCode;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = bytes.Length;
        await response.Body.WriteAsync(bytes, context.HttpContext.RequestAborted);
    }
}
